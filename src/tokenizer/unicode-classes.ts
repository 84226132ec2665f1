// Per-code-point class flags for the Wasm pre-tokenizer (assembly/tokenizer/
// context.ts F_*), computed from the JS engine's own Unicode tables: each
// class is a RegExp with the `u` flag run over a string of every code point,
// so the Wasm scanners see exactly the categories a JS RegExp (and so
// @huggingface/tokenizers) sees. Stored two-level: u16 block numbers per 256
// code points, then the distinct 256-entry blocks.

export const F_WS = 1, F_CRLF = 2, F_L = 4, F_M = 8, F_N = 16, F_P = 32, F_S = 64, F_APUNCT = 128,
  F_ALPHA = 256, F_SPACE = 512, F_CLASS_A = 1024, F_CLASS_B = 2048, F_CLASS_C = 4096;

const BASE_CLASSES: [number, string][] = [
  [F_WS, '\\p{White_Space}'],
  [F_CRLF, '[\\r\\n]'],
  [F_L, '\\p{L}'],
  [F_M, '\\p{M}'],
  [F_N, '\\p{N}'],
  [F_P, '\\p{P}'],
  [F_S, '\\p{S}'],
  [F_APUNCT, '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]'],
  [F_ALPHA, '[A-Za-z]'],
  [F_SPACE, ' '],
];
const PATTERN_FLAGS = [F_CLASS_A, F_CLASS_B, F_CLASS_C];

export interface ClassTable {
  /** u16[0x1100]: block number of each 256 code points. */
  readonly index: Uint16Array;
  /** u16[blocks × 256]: flags. */
  readonly blocks: Uint16Array;
}

const SURROGATES = 0x800;
const FIRST_ASTRAL_UNIT = 0x10000 - SURROGATES; // UTF-16 index of U+10000 in the all-code-points string
let everyCodePoint: string | undefined;
const tables = new Map<string, ClassTable>();

function allCodePoints(): string {
  if (everyCodePoint) return everyCodePoint;
  const parts: string[] = [];
  const chunk: number[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    chunk.push(cp);
    if (chunk.length === 4096) { parts.push(String.fromCodePoint(...chunk)); chunk.length = 0; }
  }
  parts.push(String.fromCodePoint(...chunk));
  return (everyCodePoint = parts.join(''));
}

function codePointAt(unit: number): number {
  if (unit < 0xd800) return unit;
  if (unit < FIRST_ASTRAL_UNIT) return unit + SURROGATES;
  return 0x10000 + (unit - FIRST_ASTRAL_UNIT) / 2;
}

/** The class table for the base classes plus up to three pattern classes (RegExp sources of one character class each). */
export function classTable(patternClasses: readonly string[]): ClassTable {
  const key = patternClasses.join('\u0000');
  const cached = tables.get(key);
  if (cached) return cached;
  if (patternClasses.length > PATTERN_FLAGS.length) throw new Error(`tokenizer: at most ${PATTERN_FLAGS.length} pattern classes, got ${patternClasses.length}`);
  const flags = new Uint16Array(0x110000);
  const text = allCodePoints();
  const classes = [...BASE_CLASSES, ...patternClasses.map((source, i): [number, string] => [PATTERN_FLAGS[i], source])];
  for (const [flag, source] of classes) {
    const single = new RegExp(`^(?:${source})$`, 'u');
    if (single.test('\ud800')) flags.fill(flag, 0xd800, 0xdc00); // one lone high surrogate stands for all
    if (single.test('\udc00')) flags.fill(flag, 0xdc00, 0xe000);
    for (const match of text.matchAll(new RegExp(`(?:${source})+`, 'gu'))) {
      const start = codePointAt(match.index);
      const end = codePointAt(match.index + match[0].length - 1) + 1;
      for (let cp = start; cp < end; cp++) flags[cp] |= flag;
    }
  }
  const table = twoLevel(flags);
  tables.set(key, table);
  return table;
}

function twoLevel(flags: Uint16Array): ClassTable {
  const index = new Uint16Array(0x1100);
  const distinct = new Map<string, number>();
  const blocks: Uint16Array[] = [];
  for (let b = 0; b < 0x1100; b++) {
    const block = flags.subarray(b * 256, b * 256 + 256);
    const key = String.fromCharCode(...block);
    let number = distinct.get(key);
    if (number === undefined) {
      number = blocks.length;
      distinct.set(key, number);
      blocks.push(block);
    }
    index[b] = number;
  }
  const packed = new Uint16Array(blocks.length * 256);
  blocks.forEach((block, i) => packed.set(block, i * 256));
  return { index, blocks: packed };
}
