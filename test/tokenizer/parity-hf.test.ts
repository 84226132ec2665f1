// Token-for-token parity with @huggingface/tokenizers on the corpus, for the
// real DeepSeek-V3 tokenizer.json and tiny-a's deepseek-llm one — native
// Wasm pre-tokenizers and the JS RegExp fallback alike.
import { expect, it } from 'vitest';
import { chunks, corpus, describeParity } from './support.ts';

const texts = corpus();
const extras = [
  '', ' ', '\n', '\r\n', '  \n  ', 'a  ', '\t\tx', '!!!abc', "it's", '12345678901', '١٢٣٤٥', '三十二ab', 'カタカナ ひらがな',
  'x\u0301y', ' \u0301', 'e\u0301\u0301', '\u200d', 'a\u00a0b', '\u3000\u3000x', '\ufeffbom', 'tab\t\n\r\nend   ',
  '<｜User｜>hi<｜Assistant｜>ok<｜end▁of▁sentence｜>', '<think>\n</think>', 'ÀÁüÿ', '\u0085next', 'line\u2028sep',
];

describeParity('parity with @huggingface/tokenizers', ({ reference, native, fallback }) => {
  for (const [category, text] of Object.entries(texts)) {
    it(`${category}: every paragraph and the whole file`, () => {
      for (const chunk of chunks(text)) expect(native().encode(chunk), JSON.stringify(chunk.slice(0, 80))).toEqual(reference(chunk));
      expect(native().encode(text)).toEqual(reference(text));
    });
  }

  it('a text longer than one encoding chunk (the whole corpus, twice)', () => {
    const all = Object.values(texts).join('\n').repeat(2);
    expect(native().encode(all)).toEqual(reference(all));
  });

  it('edge cases: empty, whitespace, marks, digits, added tokens', () => {
    for (const text of extras) expect(native().encode(text), JSON.stringify(text)).toEqual(reference(text));
  });

  it('the JS RegExp pre-tokenizer agrees with the native one', () => {
    for (const text of [...extras, ...Object.values(texts).flatMap(chunks)]) {
      expect(fallback().encode(text), JSON.stringify(text.slice(0, 80))).toEqual(native().encode(text));
    }
  });
});
