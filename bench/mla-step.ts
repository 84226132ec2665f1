// The decode-attention benchmark setup both backends' benches share: one
// absorbed MLA step (T = 1) at DeepSeek-V2-Lite's attention dimensions (16
// heads, kv_lora 512, rope 64, nope 128, v 128) over a latent cache filled
// with L random rows of one sequence (blocks of 16 positions, in order).
import {
  columns, type AbsorbedAttentionWeights, type Activation, type Backend, type CacheRows, type DType, type LatentCache, type MlaShape,
} from '../src/backend/backend.ts';
import { fromF32 } from '../src/model/dtype.ts';
import { splitKvB } from '../src/model/load-weights.ts';

export const MLA_DIMS = { heads: 16, nope: 128, rope: 64, v: 128, kvr: 512 } as const;

/** Deterministic values in [−scale, scale) (an LCG: fast enough for GB-sized benchmark data). */
export function random(n: number, seed: number, scale = 0.1): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2 ** 31; out[i] = (s / 2 ** 31 - 0.5) * 2 * scale; }
  return out;
}

export interface MlaStep {
  readonly weights: AbsorbedAttentionWeights;
  readonly shape: MlaShape;
  readonly q: Activation;
  readonly out: Activation;
  release(): void;
}

/** W_UKᵀ / W_UV from a random kv_b of `dtype`, and one query row. */
export function mlaStep(b: Backend, dtype: DType): MlaStep {
  const { heads, nope, rope, v, kvr } = MLA_DIMS;
  const kvB = fromF32(dtype, random(heads * (nope + v) * kvr, 1));
  const split = splitKvB({ name: 'kv_b', dtype, shape: [heads * (nope + v), kvr], bytes: kvB }, heads, nope, v, kvr);
  const weights = { wkb: b.uploadWeight(split.wkb, { layer: 0 }), wvb: b.uploadWeight(split.wvb, { layer: 0 }) };
  const q = b.createActivation(1, heads * (nope + rope));
  b.write(q, random(heads * (nope + rope), 2));
  const out = b.createActivation(1, heads * v);
  return {
    weights, q, out,
    shape: { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale: 0.07 },
    release: () => { for (const r of [q, out, weights.wkb, weights.wvb]) b.release(r); },
  };
}

const BLOCK = 16;

/**
 * A one-layer latent cache of L random rows (the rows are released once the
 * writes have run), and the cache rows of the decode step at position L − 1.
 */
export async function filledCache(b: Backend, L: number): Promise<{ cache: LatentCache; decode: CacheRows }> {
  const { rope, kvr } = MLA_DIMS;
  const cache = b.createLatentCache(1, BLOCK, kvr + rope);
  const blocks = Int32Array.from({ length: Math.ceil(L / BLOCK) }, (_, i) => i);
  b.growLatentCache(cache, blocks.length);
  const chunk = 1024;
  const pieces: Activation[] = [];
  for (let p = 0; p < L; p += chunk) {
    const n = Math.min(chunk, L - p);
    const rows = b.createActivation(n, kvr + rope);
    b.write(rows, random(n * (kvr + rope), 3 + p));
    const at = { positions: Int32Array.from({ length: n }, (_, i) => p + i), tableStart: new Int32Array(n), blocks };
    b.cacheWrite(cache, 0, at, columns(rows, 0, kvr), columns(rows, kvr, rope));
    pieces.push(rows);
  }
  await b.read(pieces[0], 0, 1);
  for (const rows of pieces) b.release(rows);
  return { cache, decode: { positions: Int32Array.of(L - 1), tableStart: Int32Array.of(0), blocks } };
}
