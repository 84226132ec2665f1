// Properties over random Unicode (fast-check, fixed seed): round trips,
// streaming decoding, lone surrogates as HF treats them, and raw bytes.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../src/tokenizer/types.ts';
import { hfReference, loadV3, v3Config, v3Json } from './support.ts';

const seed = 20250101;
let tokenizer: Tokenizer;
beforeAll(async () => { tokenizer = await loadV3(); });
afterAll(() => tokenizer.dispose());

// Mixed scripts, marks, digits, whitespace (CR, LF, tabs) and emoji, not only ASCII.
const pieces = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(' ', '\ufeff', '\r\n', '\t', '  \n', '深度求索', '１２３', '👩🏽‍💻', 'e\u0301', 'Привет', 'مرحبا', '123456', '<｜User｜>'),
);
const text = fc.array(pieces, { maxLength: 8 }).map((parts) => parts.join(''));

describe('encode/decode properties', () => {
  it('decode(encode(x)) == x for well-formed text', () => {
    fc.assert(fc.property(text, (x) => { expect(tokenizer.decode(tokenizer.encode(x))).toBe(x); }), { seed, numRuns: 800 });
  });

  it('the streaming decoder concatenates to decode(all ids), never a partial character', () => {
    fc.assert(fc.property(text, fc.boolean(), (x, skip) => {
      const ids = tokenizer.encode(x);
      const decoder = tokenizer.createDecoder({ skipSpecialTokens: skip });
      let streamed = '';
      for (const id of ids) {
        const delta = decoder.push(id);
        expect(delta.isWellFormed()).toBe(true);
        expect(delta.includes('\ufffd') && !x.includes('\ufffd')).toBe(false);
        streamed += delta;
      }
      streamed += decoder.flush();
      expect(streamed).toBe(tokenizer.decode(ids, { skipSpecialTokens: skip }));
    }), { seed, numRuns: 500 });
  });

  it('the streaming decoder also agrees on arbitrary id sequences (split and invalid UTF-8)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: tokenizer.vocabSize - 1 }), { maxLength: 30 }), (ids) => {
      const decoder = tokenizer.createDecoder();
      const streamed = ids.map((id) => decoder.push(id)).join('') + decoder.flush();
      expect(streamed).toBe(tokenizer.decode(ids));
    }), { seed, numRuns: 300 });
  });

  it('lone surrogates encode as @huggingface/tokenizers encodes them (U+FFFD bytes, surrogate class)', () => {
    const reference = hfReference(v3Json, v3Config);
    const withSurrogates = fc.array(fc.oneof(pieces, fc.constantFrom('\ud800', '\udfff', '\udbff', 'a\udc00b', ' \ud83d')), { maxLength: 8 })
      .map((parts) => parts.join(''));
    fc.assert(fc.property(withSurrogates, (x) => {
      expect(tokenizer.encode(x)).toEqual(reference(x));
      expect(tokenizer.decode(tokenizer.encode(x))).toBe(x.toWellFormed());
    }), { seed, numRuns: 500 });
  });

  it('encodeBytes: valid UTF-8 as encode, invalid bytes round-trip byte for byte', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const ids = tokenizer.encodeBytes(bytes);
      const back = new Uint8Array(ids.flatMap((id) => [...tokenizer.tokenBytes(id)]));
      const valid = (() => { try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { return undefined; } })();
      if (valid !== undefined) expect(ids).toEqual(tokenizer.encode(valid));
      else expect(back).toEqual(bytes);
    }), { seed, numRuns: 800 });
  });

  it('a leading byte-order mark is text, kept by decode and the streaming decoder', () => {
    const ids = tokenizer.encode('\ufeffhello');
    expect(tokenizer.decode(ids)).toBe('\ufeffhello');
    const decoder = tokenizer.createDecoder();
    expect(ids.map((id) => decoder.push(id)).join('') + decoder.flush()).toBe('\ufeffhello');
  });

  it('parseSpecial: false leaves special tokens as text', () => {
    const text = '<｜User｜>hi';
    expect(tokenizer.encode(text)[0]).toBe(128803);
    const plain = tokenizer.encode(text, { parseSpecial: false });
    expect(plain).not.toContain(128803);
    expect(tokenizer.decode(plain)).toBe(text);
  });
});
