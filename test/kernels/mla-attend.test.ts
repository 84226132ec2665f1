// mla_attend (absorbed MLA over the paged latent cache) against a float64
// reference written over each sequence's logical rows: several sequences in
// one call (a ragged batch: decode rows and prefill chunks, in any order),
// block tables pointing at shuffled blocks of a pool, block sizes that do and
// do not divide the tile, NaN in every cache row no row may read, a strided
// q_pe, rows wider than [c | k_pe], kvr and rope not multiples of 8.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { absorbedCoreRef } from '../ops/reference.ts';
import {
  fenceIntact, kernelInstance, poisonedF32, printRecordedErrors, putF32, putI32, randomF32, readF32, recordRel, relError,
  release, rng,
} from './support.ts';

let inst: WasmInstance;
beforeAll(async () => { inst = await kernelInstance(); });
afterAll(printRecordedErrors);

interface Case {
  heads: number; kvr: number; rope: number; blockSize: number;
  /** Tokens each sequence holds. */
  lengths: number[];
  /** Query rows: [sequence, position], position < its length. */
  rows: [number, number][];
  boost?: number;
}

function run({ heads, kvr, rope, blockSize, lengths, rows, boost = 1 }: Case): number {
  const width = kvr + rope + 3;
  const qpeHeadStride = rope + 2;
  const qpeStride = heads * qpeHeadStride + 5;
  const latStride = heads * kvr + 7;
  const T = rows.length;
  const scale = boost / Math.sqrt(kvr / 4 + rope);
  // Each sequence's logical rows [c | k_pe | 3 unused], never all zero.
  const logical = lengths.map((L, s) => randomF32(L * width, 30 + s, 2));
  // A pool with spare blocks; each sequence's blocks drawn in shuffled order.
  const tables = lengths.map((L) => Math.ceil(L / blockSize));
  const poolBlocks = tables.reduce((a, b) => a + b, 0) + 3;
  const order = Array.from({ length: poolBlocks }, (_, i) => i);
  const next = rng(7 + blockSize);
  for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(next() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
  const pool = new Float32Array(poolBlocks * blockSize * width).fill(NaN);
  const blockIds: number[][] = [];
  let drawn = 0;
  lengths.forEach((L, s) => {
    const ids = order.slice(drawn, drawn + tables[s]);
    drawn += tables[s];
    blockIds.push(ids);
    for (let p = 0; p < L; p++) {
      const at = (ids[Math.floor(p / blockSize)] * blockSize + (p % blockSize)) * width;
      pool.set(logical[s].subarray(p * width, (p + 1) * width), at);
    }
  });
  // Rows of the sequence past a query's position hold real data: only the causal mask keeps them out.
  const poolR = putF32(inst, pool);
  const blockAddr = blockIds.flat().map((id) => poolR.ptr + id * blockSize * width * 4);
  const tableStart = lengths.map((_, s) => blockIds.slice(0, s).reduce((a, t) => a + t.length, 0));
  const blockRowsR = putI32(inst, blockAddr);
  const rowsR = putI32(inst, rows.flatMap(([s, p]) => [p, tableStart[s]]));
  const qlat = randomF32(T * latStride, 21, 2);
  const qpe = randomF32(T * qpeStride, 22, 2);
  const qlatR = putF32(inst, qlat);
  const qpeR = putF32(inst, qpe);
  const olatR = poisonedF32(inst, T * latStride);
  const maxN = Math.max(...rows.map(([, p]) => p + 1));
  const scratchR = poisonedF32(inst, heads * maxN);
  inst.exports.mla_attend(
    qlatR.ptr, qpeR.ptr, qpeStride, qpeHeadStride, latStride, blockRowsR.ptr, rowsR.ptr, blockSize, width, kvr, rope,
    heads, T, scale, olatR.ptr, scratchR.ptr,
  );
  const got = readF32(inst, olatR);
  const picked = new Float64Array(T * heads * kvr);
  const ref = new Float64Array(T * heads * kvr);
  rows.forEach(([s, p], t) => {
    for (let i = 0; i < heads * kvr; i++) picked[t * heads * kvr + i] = got[t * latStride + i];
    for (let i = heads * kvr; i < latStride; i++) {
      expect(Number.isNaN(got[t * latStride + i]), `row ${t}: olat columns past the heads untouched`).toBe(true);
    }
    const qRow = Float64Array.from(qlat.subarray(t * latStride, t * latStride + heads * kvr));
    const peRow = new Float64Array(heads * rope);
    for (let h = 0; h < heads; h++) for (let i = 0; i < rope; i++) peRow[h * rope + i] = qpe[t * qpeStride + h * qpeHeadStride + i];
    ref.set(absorbedCoreRef(qRow, peRow, logical[s].subarray(0, (p + 1) * width), width, { heads, kvr, rope, scale }), t * heads * kvr);
  });
  expect(fenceIntact(inst, olatR), 'memory past olat untouched').toBe(true);
  expect(fenceIntact(inst, scratchR), 'memory past scratch untouched').toBe(true);
  release(inst, poolR, blockRowsR, rowsR, qlatR, qpeR, olatR, scratchR);
  return relError(picked, ref);
}

/** A prefill chunk: rows [from, to) of sequence s. */
const chunk = (s: number, from: number, to: number): [number, number][] => Array.from({ length: to - from }, (_, i) => [s, from + i]);

describe('mla_attend over block tables', () => {
  const cases: (Case & { name: string })[] = [
    { name: 'one sequence, first token', heads: 3, kvr: 37, rope: 6, blockSize: 16, lengths: [1], rows: [[0, 0]] },
    { name: 'one sequence decode at 20, blocks of 3 (7 blocks)', heads: 3, kvr: 37, rope: 6, blockSize: 3, lengths: [21], rows: [[0, 20]] },
    { name: 'prefill chunk at 9, blocks of 1', heads: 5, kvr: 67, rope: 10, blockSize: 1, lengths: [13], rows: chunk(0, 9, 13) },
    {
      name: 'ragged batch: 3 decode rows and a prefill chunk, blocks of 7', heads: 2, kvr: 64, rope: 16, blockSize: 7,
      lengths: [30, 1, 15, 22], rows: [[0, 29], [1, 0], ...chunk(3, 12, 22), [2, 14]],
    },
    {
      name: 'V2 dimensions, 5 sequences, blocks of 16 (odd counts)', heads: 16, kvr: 512, rope: 64, blockSize: 16,
      lengths: [133, 17, 49, 1, 80], rows: [[1, 16], [0, 132], ...chunk(4, 77, 80), [3, 0], [2, 48], [0, 100]],
    },
    {
      name: 'blocks of 48 (tiles split a block)', heads: 4, kvr: 33, rope: 8, blockSize: 48,
      lengths: [150, 47], rows: [[0, 149], [1, 46], [0, 48]],
    },
    // Scores spread over hundreds: most probabilities underflow (the SIMD exp's clamp).
    { name: 'scores ×60', heads: 4, kvr: 32, rope: 8, blockSize: 5, lengths: [42, 9], rows: [[0, 41], [1, 8]], boost: 60 },
  ];
  for (const c of cases) {
    it(`${c.name} (heads=${c.heads} kvr=${c.kvr} rope=${c.rope})`, () => {
      const rel = recordRel(`mla_attend ${c.name}`, run(c));
      expect(rel, `mla_attend ${c.name}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(2e-6);
    });
  }
});
