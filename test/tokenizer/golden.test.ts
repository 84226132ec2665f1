// Exact ids against the goldens: tiny-a's tokenize.json (from its
// tokenizer.json and from its GGUF) and llama.cpp's test vectors for the real
// DeepSeek-LLM/V2 vocabulary (ggml-vocab-deepseek-llm.gguf, pre deepseek-llm).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsSource } from '../../src/model/source-fs.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { fixtures, tinyDir } from './support.ts';

const golden = JSON.parse(readFileSync(join(tinyDir, 'tokenize.json'), 'utf8')) as { cases: { text: string; ids: number[] }[] };

describe('tiny-a tokenize.json', () => {
  for (const [label, path] of [['tokenizer.json', tinyDir], ['model.gguf', join(tinyDir, 'model.gguf')]]) {
    it(`all ${golden.cases.length} strings from ${label}`, async () => {
      const tokenizer = await loadTokenizer(await fsSource(path));
      for (const { text, ids } of golden.cases) expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(ids);
      expect(tokenizer.bosId).toBe(998);
      expect(tokenizer.encode('Hello world', { addSpecialTokens: true })[0]).toBe(998);
      tokenizer.dispose();
    });
  }
});

describe('llama.cpp test vectors, ggml-vocab-deepseek-llm.gguf', () => {
  it('every .inp text encodes to its .out ids', async () => {
    const vocab = join(fixtures, 'vocab', 'ggml-vocab-deepseek-llm.gguf');
    const texts = readFileSync(`${vocab}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
    const expected = readFileSync(`${vocab}.out`, 'utf8').split('\n');
    const tokenizer = await loadTokenizer(await fsSource(vocab));
    expect(tokenizer.vocabSize).toBe(102400);
    texts.forEach((text, i) => {
      const want = expected[i].trim() === '' ? [] : expected[i].trim().split(' ').map(Number);
      expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(want);
      expect(tokenizer.decode(want)).toBe(text);
    });
    tokenizer.dispose();
  });
});
