// Token-for-token parity with @huggingface/tokenizers on the corpus, for the
// real DeepSeek-V3 tokenizer.json and tiny-a's deepseek-llm one — native
// Wasm pre-tokenizers and the JS RegExp fallback alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer } from '../../src/tokenizer/types.ts';
import { chunks, corpus, hfReference, loadTiny, loadV3, tinyConfig, tinyJson, v3Config, v3Json } from './support.ts';

const texts = corpus();
const extras = [
  '', ' ', '\n', '\r\n', '  \n  ', 'a  ', '\t\tx', '!!!abc', "it's", '12345678901', '١٢٣٤٥', '三十二ab', 'カタカナ ひらがな',
  'x\u0301y', ' \u0301', 'e\u0301\u0301', '\u200d', 'a\u00a0b', '\u3000\u3000x', '\ufeffbom', 'tab\t\n\r\nend   ',
  '<｜User｜>hi<｜Assistant｜>ok<｜end▁of▁sentence｜>', '<think>\n</think>', 'ÀÁüÿ', '\u0085next', 'line\u2028sep',
];

for (const [name, json, config, load] of [
  ['deepseek-v3', v3Json, v3Config, loadV3],
  ['deepseek-llm (tiny-a)', tinyJson, tinyConfig, loadTiny],
] as const) {
  describe(`${name}: parity with @huggingface/tokenizers`, () => {
    const reference = hfReference(json, config);
    let native: Tokenizer;
    let fallback: Tokenizer;
    beforeAll(async () => {
      native = await load();
      fallback = await load({ forceRegexPreTokenizer: true });
    });
    afterAll(() => { native.dispose(); fallback.dispose(); });

    for (const [category, text] of Object.entries(texts)) {
      it(`${category}: every paragraph and the whole file`, () => {
        for (const chunk of chunks(text)) expect(native.encode(chunk), JSON.stringify(chunk.slice(0, 80))).toEqual(reference(chunk));
        expect(native.encode(text)).toEqual(reference(text));
      });
    }

    it('a text longer than one encoding chunk (the whole corpus, twice)', () => {
      const all = Object.values(texts).join('\n').repeat(2);
      expect(native.encode(all)).toEqual(reference(all));
    });

    it('edge cases: empty, whitespace, marks, digits, added tokens', () => {
      for (const text of extras) expect(native.encode(text), JSON.stringify(text)).toEqual(reference(text));
    });

    it('the JS RegExp pre-tokenizer agrees with the native one', () => {
      for (const text of [...extras, ...Object.values(texts).flatMap(chunks)]) {
        expect(fallback.encode(text), JSON.stringify(text.slice(0, 80))).toEqual(native.encode(text));
      }
    });
  });
}
