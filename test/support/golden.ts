// Readers for the golden model test/fixtures/golden/tiny-a (see its README for formats and tolerances).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = fileURLToPath(new URL('../fixtures/golden/tiny-a/', import.meta.url));

export interface GoldenSequence { ids: number[]; logits_file: string; argmax: number[]; top1_margin?: number[] }
export interface GoldenGreedy { prompt_ids: number[]; continuation_ids: number[] }
export interface Golden {
  sequences: GoldenSequence[];
  greedy: GoldenGreedy[];
  q8_0: { gguf: string; sequences: GoldenSequence[]; greedy: GoldenGreedy[] };
}

export function readGolden(dir = GOLDEN_DIR): Golden {
  return JSON.parse(readFileSync(`${dir}/golden.json`, 'utf8')) as Golden;
}

export function readF32(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
