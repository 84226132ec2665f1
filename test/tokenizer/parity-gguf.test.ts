// The real DeepSeek-LLM/V2 vocabulary (102,400 tokens) loaded from its GGUF
// against @huggingface/tokenizers running a tokenizer.json rebuilt from the
// same GGUF metadata (vocab, merges, control/user-defined tokens, the
// deepseek-llm pre_tokenizer) — every corpus paragraph, token for token.
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGguf } from '../../src/model/gguf.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { DEEPSEEK_LLM_PRE_TOKENIZER } from '../../src/tokenizer/pretokenizer-configs.ts';
import type { Tokenizer } from '../../src/tokenizer/types.ts';
import { chunks, corpus, hfReference, randomText, fixtures } from './support.ts';

const gguf = join(fixtures, 'vocab', 'ggml-vocab-deepseek-llm.gguf');

async function tokenizerJsonFromGguf(): Promise<string> {
  const meta = (await readGguf(await fsSource(gguf), 'ggml-vocab-deepseek-llm.gguf')).metadata;
  const tokens = meta['tokenizer.ggml.tokens'] as string[];
  const types = meta['tokenizer.ggml.token_type'] as number[];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => { if (!Object.hasOwn(vocab, t)) vocab[t] = id; });
  const added = tokens.flatMap((content, id) => (types[id] === 3 || types[id] === 4
    ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: types[id] === 4, special: types[id] === 3 }] : []));
  return JSON.stringify({
    version: '1.0', normalizer: null, pre_tokenizer: DEEPSEEK_LLM_PRE_TOKENIZER, added_tokens: added,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true }, post_processor: null,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab, merges: meta['tokenizer.ggml.merges'] },
  });
}

describe('deepseek-llm GGUF vocabulary: parity with @huggingface/tokenizers', () => {
  let tokenizer: Tokenizer;
  let reference: (text: string) => number[];
  beforeAll(async () => {
    tokenizer = await loadTokenizer(await fsSource(gguf));
    reference = hfReference(await tokenizerJsonFromGguf(), '{}');
  });
  afterAll(() => tokenizer.dispose());

  for (const [category, text] of Object.entries(corpus())) {
    it(`${category}: every paragraph and the whole file`, () => {
      for (const chunk of chunks(text)) expect(tokenizer.encode(chunk), JSON.stringify(chunk.slice(0, 80))).toEqual(reference(chunk));
      expect(tokenizer.encode(text)).toEqual(reference(text));
    });
  }

  it('random text over every character class', () => {
    fc.assert(fc.property(randomText, (x) => { expect(tokenizer.encode(x)).toEqual(reference(x)); }), { seed: 11, numRuns: 2000 });
  });
});
