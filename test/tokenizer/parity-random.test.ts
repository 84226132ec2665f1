// Parity with @huggingface/tokenizers on random text built from characters of
// every class the pre-tokenizers distinguish (letters of several scripts,
// marks, digits, punctuation, symbols, each kind of whitespace, CR/LF, CJK,
// kana, Hangul, emoji, controls, lone surrogates), so every alternative and
// look-ahead of the Split regexes meets its neighbours.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../src/tokenizer/types.ts';
import { hfReference, loadTiny, loadV3, tinyConfig, tinyJson, v3Config, v3Json } from './support.ts';

const seed = 7;
const alphabet = [
  'a', 'Z', 'é', 'ß', 'Ω', 'я', 'ع', 'न', '\u094d', 'ก', '\u0e31', 'µ', 'ǅ', 'ｆ', '𝔥', '𐐀',
  '\u0301', '\u0308', '\u20dd',
  '0', '7', '²', '½', '٣', '१', '１', 'Ⅻ', '①',
  '!', '.', '-', "'", '"', '(', '[', '\\', '_', '`', '~', '，', '。', '、', '「', '！', '…', '—', '‘', '’',
  '$', '+', '<', '=', '|', '^', '©', '€', '∑', '→', '😀', '👍🏽', '👨‍👩‍👧', '🇯🇵', '\ufffd',
  ' ', ' ', '  ', '\t', '\r', '\n', '\r\n', '\u000b', '\f', '\u0085', '\u00a0', '\u2028', '\u3000', '\u200b', '\ufeff',
  '深', '度', '龥', '一', 'ぁ', 'カ', 'ー', '가', '힣', 'ㄱ', '\u0800',
  '\u0000', '\u001b', '\u007f', '\u200d', '\ud800', '\udc00',
];
const text = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

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
