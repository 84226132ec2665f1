// Parity with @huggingface/tokenizers on random text built from characters of
// every class the pre-tokenizers distinguish (letters of several scripts,
// marks, digits, punctuation, symbols, each kind of whitespace, CR/LF, CJK,
// kana, Hangul, emoji, controls, lone surrogates), so every alternative and
// look-ahead of the Split regexes meets its neighbours.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../src/tokenizer/types.ts';
import { hfReference, loadTiny, loadV3, randomText as text, tinyConfig, tinyJson, v3Config, v3Json } from './support.ts';

const seed = 7;

for (const [name, json, config, load] of [
  ['deepseek-v3', v3Json, v3Config, loadV3],
  ['deepseek-llm (tiny-a)', tinyJson, tinyConfig, loadTiny],
] as const) {
  describe(`${name}: random text`, () => {
    const reference = hfReference(json, config);
    let native: Tokenizer;
    let fallback: Tokenizer;
    beforeAll(async () => {
      native = await load();
      fallback = await load({ forceRegexPreTokenizer: true });
    });
    afterAll(() => { native.dispose(); fallback.dispose(); });

    it('native encode == @huggingface/tokenizers', () => {
      fc.assert(fc.property(text, (x) => { expect(native.encode(x)).toEqual(reference(x)); }), { seed, numRuns: 3000 });
    });

    it('JS RegExp fallback == @huggingface/tokenizers', () => {
      fc.assert(fc.property(text, (x) => { expect(fallback.encode(x)).toEqual(reference(x)); }), { seed, numRuns: 1000 });
    });
  });
}
