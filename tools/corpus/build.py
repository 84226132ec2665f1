#!/usr/bin/env python3
"""Assembles the tokenizer test corpus (test/fixtures/corpus/) from offline text.

Sources are files Debian and the toolchain install locally; each category file
is capped so the corpus stays a few hundred KB. Deterministic: the same inputs
give the same files (the synthetic parts use a fixed seed).

  apt-get install -y manpages-zh fortunes-zh   # Chinese sources
  python3 tools/corpus/build.py [OUT_DIR]

Licenses of each source are listed in the README.md written next to the files.
"""
import gettext
import glob
import gzip
import os
import random
import sys
import sysconfig

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'corpus')
CAP = 72 * 1024
STDLIB = sysconfig.get_paths()['stdlib']
ROOT = os.path.join(os.path.dirname(__file__), '..', '..')


def read(path, limit=CAP):
    with open(path, 'rb') as f:
        return f.read(limit).decode('utf-8', errors='ignore')


def take(parts, limit=CAP):
    out, size = [], 0
    for part in parts:
        data = part.encode('utf-8')
        if size + len(data) > limit:
            data = data[: limit - size].decode('utf-8', errors='ignore').encode('utf-8')
        out.append(data.decode('utf-8'))
        size += len(data)
        if size >= limit:
            break
    return ''.join(out)


def mo_strings(path):
    with open(path, 'rb') as f:
        catalog = gettext.GNUTranslations(f)._catalog
    return [v for k, v in sorted(catalog.items(), key=lambda kv: str(kv[0])) if k and isinstance(v, str)]


def english():
    return take([read('/usr/share/common-licenses/GPL-3'), read(os.path.join(STDLIB, 'idlelib', 'NEWS2x.txt'))])


def code():
    files = [os.path.join(STDLIB, 'json', 'decoder.py'), os.path.join(STDLIB, 'textwrap.py'), '/usr/include/stdio.h',
             os.path.join(ROOT, 'node_modules', 'assemblyscript', 'std', 'assembly', 'string.ts'),
             os.path.join(ROOT, 'node_modules', 'assemblyscript', 'std', 'assembly', 'util', 'number.ts')]
    return take([read(f, 16 * 1024) for f in files if os.path.exists(f)])


def chinese():
    fortunes = [read(f'/usr/share/games/fortunes/{name}', 20 * 1024) for name in ('tang300', 'song100', 'chinese')]
    pages = sorted(glob.glob('/usr/share/man/zh_CN/man1/*.1.gz'))[:40]
    man = [gzip.open(p).read(4096).decode('utf-8', errors='ignore') for p in pages]
    return take(fortunes + man)


def multilingual():
    parts = []
    for lang in ('ja', 'ko', 'ar', 'ru', 'hi', 'uk', 'he', 'th', 'el', 'vi'):
        for domain in ('apt', 'Linux-PAM', 'adduser'):
            path = f'/usr/share/locale/{lang}/LC_MESSAGES/{domain}.mo'
            if os.path.exists(path):
                parts.append('\n'.join(mo_strings(path)[:120]) + '\n')
                break
    for name in ('shift_jis-utf8.txt', 'euc_kr-utf8.txt', 'johab-utf8.txt'):
        path = os.path.join(STDLIB, 'test', 'cjkencodings', name)
        if os.path.exists(path):
            parts.append(read(path, 6 * 1024))
    return take(parts, 96 * 1024)


def symbols(rng):
    emoji = ['😀', '👍', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '👩🏿‍💻', '🇯🇵', '🇺🇳', '❤️', '🦙', '🧑‍🤝‍🧑', '✋🏻', '🫠']
    marks = ['e\u0301', 'a\u0308\u0304', 'n\u0303', '\u0928\u094d\u0928', 'Z\u0351\u036b\u0343\u036a', '\u05e9\u05c1\u05b8', 'o\u0338']
    words = ['hello', 'Straße', 'naïve', 'café', 'ｆｕｌｌｗｉｄｔｈ', 'ℌ𝔢𝔩𝔩𝔬', 'x²', 'Ⅻ', '½', '①', 'µ', 'ǅ', '𐐀𐐁']
    lines = []
    for _ in range(900):
        items = [rng.choice(emoji + marks + words) for _ in range(rng.randint(1, 12))]
        sep = rng.choice([' ', '', '  ', '\t', ', ', '—'])
        lines.append(sep.join(items))
    return '\n'.join(lines) + '\n'


def whitespace_digits_long(rng):
    out = []
    for _ in range(600):
        kind = rng.randrange(6)
        if kind == 0:
            out.append(''.join(rng.choice('0123456789') for _ in range(rng.randint(1, 64))))
        elif kind == 1:
            out.append(''.join(rng.choice([' ', '\t', '\r', '\n', '\r\n', '  ', '\u3000', '\u00a0']) for _ in range(rng.randint(1, 12))))
        elif kind == 2:
            out.append(rng.choice(['word', 'x', 'int', '数字', 'ab1']) + ' ' * rng.randint(1, 5) + rng.choice(['\n', '\r\n', '']))
        elif kind == 3:
            out.append('v' + '.'.join(str(rng.randint(0, 999)) for _ in range(rng.randint(2, 5))) + ' ' + f'{rng.random() * 1e6:.4f}')
        elif kind == 4:
            out.append(''.join(rng.choice('abcdefghijklmnopqrstuvwxyzABCDEF+/=') for _ in range(rng.randint(40, 400))))
        else:
            out.append(''.join(rng.choice('的一是不了人我在有他这中大来上国个到说们') for _ in range(rng.randint(20, 300))))
    out.append('pneumonoultramicroscopicsilicovolcanoconiosis' * 60)
    out.append('9' * 3000 + '\n' + ' ' * 2000 + 'end   \r\n\r\n\t \t')
    return ''.join(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20250101)
    files = {
        'english.txt': english(),
        'code.txt': code(),
        'chinese.txt': chinese(),
        'multilingual.txt': multilingual(),
        'symbols.txt': symbols(rng),
        'whitespace-digits-long.txt': whitespace_digits_long(rng),
    }
    for name, text in files.items():
        with open(os.path.join(OUT, name), 'w', encoding='utf-8', newline='') as f:
            f.write(text)
        print(f'{name}: {len(text.encode("utf-8"))} bytes')


if __name__ == '__main__':
    main()
