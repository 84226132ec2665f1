#!/usr/bin/env python3
"""Train a byte-level BPE tokenizer and save it as a Hugging Face tokenizer.json.

The pre-tokenizer is DeepSeek-V3's (copied verbatim into the saved file):
  1. Split  \\p{N}{1,3}                 Isolated
  2. Split  [一-龥぀-ゟ゠-ヿ]+             Isolated
  3. Split  [!"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|
            ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+             Isolated
  4. ByteLevel (no prefix space, no regex)
Python's `re` has no \\p{..} classes, so `pretokenize()` below implements the
same three splits by hand with `unicodedata` categories (leftmost-first
alternation, the same backtracking outcomes); the tests at the bottom
(`--selftest`) check it on tricky strings.

Vocabulary: 256 byte tokens + merges + 4 added special tokens
(<｜begin▁of▁sentence｜>, <｜end▁of▁sentence｜>, <｜User｜>, <｜Assistant｜>)
at the end of the id space.

  /usr/bin/python3 tools/train/bpe.py --vocab 2048 --out tools/train/tok
"""
import argparse
import collections
import heapq
import json
import os
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
BOS = '<｜begin▁of▁sentence｜>'
EOS = '<｜end▁of▁sentence｜>'
USER = '<｜User｜>'
ASSISTANT = '<｜Assistant｜>'
SPECIALS = [BOS, EOS, USER, ASSISTANT]

# The DeepSeek-V3 pre-tokenizer, exactly as in deepseek-ai/DeepSeek-V3 tokenizer.json
DSV3_PRE_TOKENIZER = {
    'type': 'Sequence',
    'pretokenizers': [
        {'type': 'Split', 'pattern': {'Regex': '\\p{N}{1,3}'}, 'behavior': 'Isolated', 'invert': False},
        {'type': 'Split', 'pattern': {'Regex': '[一-龥぀-ゟ゠-ヿ]+'}, 'behavior': 'Isolated', 'invert': False},
        {'type': 'Split', 'pattern': {'Regex': "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"},
         'behavior': 'Isolated', 'invert': False},
        {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False},
    ],
}
DSV3_DECODER = {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True}

CHAT_TEMPLATE = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(system_prompt='', is_first_sp=true) %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}"
    "{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}"
    "{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}"
    "{%- endif %}{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
    "{%- elif message['role'] == 'assistant' %}{{ '<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>' }}"
    "{%- endif %}{%- endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}"
)

# Unicode White_Space (what \s matches in Oniguruma / Rust regex with Unicode on)
WS = set('\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000') | {chr(c) for c in range(0x2000, 0x200b)}
ASCII_PUNCT = set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')
ASCII_ALPHA = set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')

_cat_cache = {}


def cat(ch):
    c = _cat_cache.get(ch)
    if c is None:
        c = unicodedata.category(ch)[0]
        _cat_cache[ch] = c
    return c


def is_cjk(ch):
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FA5 or 0x3040 <= o <= 0x309F or 0x30A0 <= o <= 0x30FF


def split_isolated(s, match_at):
    """HF Split(behavior=Isolated): matches and the gaps between them become pieces.
    match_at(s, i) returns the end of a match starting at i, or -1 (leftmost search)."""
    out = []
    gap = 0
    i = 0
    n = len(s)
    while i < n:
        e = match_at(s, i)
        if e > i:
            if gap < i:
                out.append(s[gap:i])
            out.append(s[i:e])
            i = gap = e
        else:
            i += 1
    if gap < n:
        out.append(s[gap:])
    return out


def m_digits(s, i):
    j = i
    while j < len(s) and j - i < 3 and cat(s[j]) == 'N':
        j += 1
    return j if j > i else -1


def m_cjk(s, i):
    j = i
    while j < len(s) and is_cjk(s[j]):
        j += 1
    return j if j > i else -1


def m_main(s, i):
    n = len(s)
    c = s[i]
    # 1. [ascii punct][A-Za-z]+
    if c in ASCII_PUNCT and i + 1 < n and s[i + 1] in ASCII_ALPHA:
        j = i + 1
        while j < n and s[j] in ASCII_ALPHA:
            j += 1
        return j
    # 2. [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
    k = cat(c)
    start = -1
    if c not in '\r\n' and k not in 'LPS' and i + 1 < n and cat(s[i + 1]) in 'LM':
        start = i + 1
    elif k in 'LM':
        start = i
    if start >= 0:
        j = start
        while j < n and cat(s[j]) in 'LM':
            j += 1
        return j
    # 3. ' '?[\p{P}\p{S}]+[\r\n]*
    start = -1
    if c == ' ' and i + 1 < n and cat(s[i + 1]) in 'PS':
        start = i + 1
    elif k in 'PS':
        start = i
    if start >= 0:
        j = start
        while j < n and cat(s[j]) in 'PS':
            j += 1
        while j < n and s[j] in '\r\n':
            j += 1
        return j
    if c not in WS:
        return -1
    j = i
    last_nl = -1
    while j < n and s[j] in WS:
        if s[j] in '\r\n':
            last_nl = j
        j += 1
    # 4. \s*[\r\n]+  (greedy \s*, backtrack to the last newline of the run)
    if last_nl >= 0:
        return last_nl + 1
    # 5. \s+(?!\S)
    if j == n:
        return j
    if j - i >= 2:
        return j - 1
    # 6. \s+
    return j


def pretokenize(text):
    pieces = [text]
    for m in (m_digits, m_cjk, m_main):
        nxt = []
        for p in pieces:
            nxt.extend(split_isolated(p, m))
        pieces = nxt
    return pieces


def bytes_to_unicode():
    """GPT-2's byte ↔ printable-unicode map used by the ByteLevel pre-tokenizer."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


B2U = bytes_to_unicode()


def train_bpe(word_counts, n_merges, log_every=256):
    """Classic BPE over byte symbols. Ties: highest count, then the
    lexicographically smallest pair (by symbol strings), like HF's trainer."""
    words = [list(B2U[b] for b in w.encode('utf-8')) for w in word_counts]
    counts = list(word_counts.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for wi, (w, c) in enumerate(zip(words, counts)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += c
            where[(a, b)].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc or -negc <= 0:
            continue  # stale
        a, b = pair
        new = a + b
        merges.append(pair)
        changed = collections.Counter()
        for wi in list(where[pair]):
            w = words[wi]
            c = counts[wi]
            i = 0
            out = []
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            if len(out) == len(w):
                continue
            for x, y in zip(w, w[1:]):
                pair_count[(x, y)] -= c
                changed[(x, y)] += 0
            for x, y in zip(out, out[1:]):
                pair_count[(x, y)] += c
                where[(x, y)].add(wi)
                changed[(x, y)] += 0
            words[wi] = out
        del where[pair]
        pair_count.pop(pair, None)
        for p in changed:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            elif p in pair_count:
                del pair_count[p]
        if log_every and len(merges) % log_every == 0:
            print(f'  merge {len(merges)}: {a!r}+{b!r} count {-negc}', flush=True)
    return merges


class Tokenizer:
    """Minimal encoder for the saved tokenizer (rank-ordered BPE merges), used by
    training and export so Python and edgeseek see the same ids."""

    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            t = json.load(f)
        self.vocab = t['model']['vocab']
        self.inv = {v: k for k, v in self.vocab.items()}
        self.ranks = {tuple(m.split(' ')) if isinstance(m, str) else tuple(m): i for i, m in enumerate(t['model']['merges'])}
        self.special = {a['content']: a['id'] for a in t['added_tokens']}
        for a in t['added_tokens']:
            self.inv[a['id']] = a['content']
        self.bos = self.special[BOS]
        self.eos = self.special[EOS]
        self.u2b = {u: b for b, u in B2U.items()}
        self.cache = {}

    def _bpe(self, piece):
        r = self.cache.get(piece)
        if r is not None:
            return r
        w = [B2U[b] for b in piece.encode('utf-8')]
        while len(w) > 1:
            best = None
            for i in range(len(w) - 1):
                rk = self.ranks.get((w[i], w[i + 1]))
                if rk is not None and (best is None or rk < best[0]):
                    best = (rk, i)
            if best is None:
                break
            a, b = w[best[1]], w[best[1] + 1]
            out = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            w = out
        r = [self.vocab[s] for s in w]
        if len(self.cache) < 500000:
            self.cache[piece] = r
        return r

    def encode(self, text, bos=False):
        ids = [self.bos] if bos else []
        # added tokens are matched first (special tokens split the text)
        segs = [text]
        for sp in sorted(self.special, key=len, reverse=True):
            nxt = []
            for s in segs:
                if isinstance(s, int):
                    nxt.append(s)
                    continue
                parts = s.split(sp)
                for k, p in enumerate(parts):
                    if k:
                        nxt.append(self.special[sp])
                    if p:
                        nxt.append(p)
            segs = nxt
        for s in segs:
            if isinstance(s, int):
                ids.append(s)
            else:
                for p in pretokenize(s):
                    ids.extend(self._bpe(p))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            s = self.inv[i]
            if i in self.special.values():
                out += s.encode('utf-8')
            else:
                out += bytes(self.u2b[ch] for ch in s)
        return out.decode('utf-8', errors='replace')


def selftest():
    cases = {
        'Hello world': ['Hello', ' world'],
        'x = 12345;': ['x', ' =', ' ', '123', '45', ';'],
        'foo.bar(baz)\n\n  return': ['foo', '.bar', '(baz', ')\n\n', ' ', ' return'],
        'a  b': ['a', ' ', ' b'],
        'end  \n x': ['end', '  \n', ' x'],
        'trailing   ': ['trailing', '   '],
        '日本語テキスト': ['日本語テキスト'],
        "it's": ['it', "'s"],
        'é\u0301a': ['é\u0301a'],
        '\ttab': ['\ttab'],
        '1,000': ['1', ',', '000'],
    }
    ok = True
    for s, want in cases.items():
        got = pretokenize(s)
        if got != want:
            ok = False
            print('MISMATCH', repr(s), got, want)
        assert ''.join(got) == s
    print('selftest', 'ok' if ok else 'FAILED')
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default=os.path.join(HERE, 'data'))
    ap.add_argument('--vocab', type=int, default=2048)
    ap.add_argument('--out', default=os.path.join(HERE, 'tok'))
    ap.add_argument('--max-len', type=int, default=512, help='model_max_length in tokenizer_config.json')
    ap.add_argument('--selftest', action='store_true')
    args = ap.parse_args()
    if args.selftest:
        raise SystemExit(0 if selftest() else 1)
    with open(os.path.join(args.data, 'train.txt'), encoding='utf-8') as f:
        text = f.read()
    wc = collections.Counter(pretokenize(text))
    print('pre-tokens', sum(wc.values()), 'unique', len(wc), flush=True)
    n_merges = args.vocab - 256 - len(SPECIALS)
    merges = train_bpe(wc, n_merges)
    # byte tokens in byte order: id = byte value
    vocab = {B2U[b]: b for b in range(256)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    n = len(vocab)
    added = [{'id': n + k, 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
              'normalized': False, 'special': True} for k, s in enumerate(SPECIALS)]
    bos_id, eos_id = n, n + 1
    tok = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': None,
        'pre_tokenizer': DSV3_PRE_TOKENIZER,
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': BOS, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': BOS, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': BOS, 'type_id': 1}}, {'Sequence': {'id': 'B', 'type_id': 1}}],
            'special_tokens': {BOS: {'id': BOS, 'ids': [bos_id], 'tokens': [BOS]}},
        },
        'decoder': DSV3_DECODER,
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False,
                  'vocab': vocab, 'merges': [a + ' ' + b for a, b in merges]},
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
    cfg = {
        'add_bos_token': True,
        'add_eos_token': False,
        'bos_token': BOS,
        'eos_token': EOS,
        'pad_token': EOS,
        'unk_token': None,
        'clean_up_tokenization_spaces': False,
        'legacy': True,
        'model_max_length': args.max_len,
        'tokenizer_class': 'LlamaTokenizerFast',
        'chat_template': CHAT_TEMPLATE,
    }
    with open(os.path.join(args.out, 'tokenizer_config.json'), 'w', encoding='utf-8') as f:
        json.dump(cfg, f, ensure_ascii=False, indent=1)
    print('vocab', len(vocab) + len(SPECIALS), 'bos', bos_id, 'eos', eos_id)


if __name__ == '__main__':
    main()
