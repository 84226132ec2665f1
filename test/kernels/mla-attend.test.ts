// mla_attend (absorbed MLA over the latent cache) against a float64 reference:
// several queries past pos0 > 0 with causal masking, a strided q_pe, cache rows
// wider than [c | k_pe], kvr and rope not multiples of 8.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import {
  fenceIntact, kernelInstance, poisonedF32, printRecordedErrors, putF32, randomF32, readF32, recordRel, relError,
  release,
} from './support.ts';

let inst: WasmInstance;
beforeAll(async () => { inst = await kernelInstance(); });
afterAll(printRecordedErrors);

interface Case { heads: number; T: number; pos0: number; kvr: number; rope: number; boost?: number }

function run({ heads, T, pos0, kvr, rope, boost = 1 }: Case): number {
  const width = kvr + rope + 3;
  const qpeHeadStride = rope + 2;
  const qpeStride = heads * qpeHeadStride + 5;
  const L = pos0 + T;
  const scale = boost / Math.sqrt(kvr / 4 + rope);
  const qlat = randomF32(T * heads * kvr, 21, 2);
  const qpe = randomF32(T * qpeStride, 22, 2);
  // One more row than the causal window: a row the kernel must never read.
  const cache = randomF32((L + 1) * width, 23, 2);
  cache.fill(NaN, L * width);
  const qlatR = putF32(inst, qlat);
  const qpeR = putF32(inst, qpe);
  const cacheR = putF32(inst, cache);
  const olatR = poisonedF32(inst, T * heads * kvr);
  const scratchR = poisonedF32(inst, heads * L);
  inst.exports.mla_attend(
    qlatR.ptr, qpeR.ptr, qpeStride, qpeHeadStride, cacheR.ptr, width, kvr, rope,
    heads, T, pos0, scale, olatR.ptr, scratchR.ptr,
  );
  const ref = new Float64Array(T * heads * kvr);
  for (let t = 0; t < T; t++) {
    const n = pos0 + t + 1;
    for (let h = 0; h < heads; h++) {
      const s = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let i = 0; i < kvr; i++) dot += qlat[(t * heads + h) * kvr + i] * cache[j * width + i];
        for (let i = 0; i < rope; i++) dot += qpe[t * qpeStride + h * qpeHeadStride + i] * cache[j * width + kvr + i];
        s[j] = dot * scale;
      }
      const max = Math.max(...s);
      let sum = 0;
      for (let j = 0; j < n; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < kvr; i++) ref[(t * heads + h) * kvr + i] += (s[j] / sum) * cache[j * width + i];
      }
    }
  }
  const got = readF32(inst, olatR);
  expect(fenceIntact(inst, olatR), 'memory past olat untouched').toBe(true);
  expect(fenceIntact(inst, scratchR), 'memory past scratch untouched').toBe(true);
  release(inst, qlatR, qpeR, cacheR, olatR, scratchR);
  return relError(got, ref);
}

describe('mla_attend', () => {
  const cases: Case[] = [
    { heads: 3, T: 1, pos0: 0, kvr: 37, rope: 6 },
    { heads: 3, T: 1, pos0: 20, kvr: 37, rope: 6 },
    { heads: 5, T: 4, pos0: 9, kvr: 67, rope: 10 },
    { heads: 2, T: 7, pos0: 0, kvr: 64, rope: 16 },
    { heads: 16, T: 3, pos0: 130, kvr: 512, rope: 64 },
    // Scores spread over hundreds: most probabilities underflow (the SIMD exp's clamp).
    { heads: 4, T: 2, pos0: 40, kvr: 32, rope: 8, boost: 60 },
  ];
  for (const c of cases) {
    it(`heads=${c.heads} T=${c.T} pos0=${c.pos0} kvr=${c.kvr} rope=${c.rope}${c.boost ? ` scale×${c.boost}` : ''}`, () => {
      const rel = recordRel(`mla_attend heads=${c.heads} T=${c.T} pos0=${c.pos0}${c.boost ? ` scale×${c.boost}` : ''}`, run(c));
      expect(rel, `mla_attend rel=${rel}`).toBeLessThan(2e-6);
    });
  }
});
