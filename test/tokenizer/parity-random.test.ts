// Parity with @huggingface/tokenizers on random text built from characters of
// every class the pre-tokenizers distinguish (letters of several scripts,
// marks, digits, punctuation, symbols, each kind of whitespace, CR/LF, CJK,
// kana, Hangul, emoji, controls, lone surrogates), so every alternative and
// look-ahead of the Split regexes meets its neighbours.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeParity, randomText as text } from './support.ts';

const seed = 7;

describeParity('random text', ({ reference, native, fallback }) => {
  it('native encode == @huggingface/tokenizers', () => {
    fc.assert(fc.property(text, (x) => { expect(native().encode(x)).toEqual(reference(x)); }), { seed, numRuns: 3000 });
  });

  it('JS RegExp fallback == @huggingface/tokenizers', () => {
    fc.assert(fc.property(text, (x) => { expect(fallback().encode(x)).toEqual(reference(x)); }), { seed, numRuns: 1000 });
  });
});
