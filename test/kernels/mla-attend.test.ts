// mla_attend (absorbed MLA over the paged latent cache) against a float64
// reference written over each sequence's logical rows: several sequences in
// one call (a ragged batch: decode rows and prefill chunks, in any order),
// block tables pointing at shuffled blocks of a pool, block sizes that do and
// do not divide the tile, NaN in every cache row no row may read, a strided
// q_pe, rows wider than [c | k_pe], kvr and rope not multiples of 8; and each
// row bit-identical alone, in a batch, or with its heads split.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { absorbedCoreRef } from '../ops/reference.ts';
import {
  fenceIntact, kernelInstance, KERNEL_BUILDS, poisonedF32, printRecordedErrors, putF32, putI32, randomF32, readF32, recordRel, relError,
  release, rng,
} from './support.ts';

/** The instance of the build whose describe block runs (the plain one for the reference cases). */
let inst: WasmInstance;
afterAll(printRecordedErrors);

interface Case {
  heads: number; kvr: number; rope: number; blockSize: number;
  /** Tokens each sequence holds. */
  lengths: number[];
  /** Query rows: [sequence, position], position < its length. */
  rows: [number, number][];
  boost?: number;
}

/** A case laid out in the instance's memory, and mla_attend over its rows [t0, t1) and heads [h0, h0 + n) into olat. */
function prepare({ heads, kvr, rope, blockSize, lengths, rows, boost = 1 }: Case) {
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
  const attend = (t0 = 0, t1 = T, h0 = 0, n = heads): void => inst.exports.mla_attend(
    qlatR.ptr + (t0 * latStride + h0 * kvr) * 4, qpeR.ptr + (t0 * qpeStride + h0 * qpeHeadStride) * 4, qpeStride, qpeHeadStride, latStride,
    blockRowsR.ptr, rowsR.ptr + t0 * 8, blockSize, width, kvr, rope, n, t1 - t0, scale, olatR.ptr + (t0 * latStride + h0 * kvr) * 4, scratchR.ptr,
  );
  return {
    attend, olatR, scratchR, logical, qlat, qpe, latStride, qpeStride, qpeHeadStride, width, scale,
    release: () => release(inst, poolR, blockRowsR, rowsR, qlatR, qpeR, olatR, scratchR),
  };
}

function run(c: Case): number {
  const { heads, kvr, rope, rows } = c;
  const T = rows.length;
  const { attend, olatR, scratchR, logical, qlat, qpe, latStride, qpeStride, qpeHeadStride, width, scale, release: done } = prepare(c);
  attend();
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
  done();
  return relError(picked, ref);
}

/** A prefill chunk: rows [from, to) of sequence s. */
const chunk = (s: number, from: number, to: number): [number, number][] => Array.from({ length: to - from }, (_, i) => [s, from + i]);

describe('mla_attend over block tables', () => {
  beforeAll(async () => { inst = await kernelInstance(); });
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

// Batch invariance (mla_attend.ts, mla-attention.ts): a row's olat is the
// same bits alone or among other rows, with all heads in one call or split
// into the head groups of a thread split (heads outside groups of four).
for (const build of KERNEL_BUILDS) describe(`mla_attend batch invariance, ${build} SIMD build`, () => {
  beforeAll(async () => { inst = await kernelInstance(build); });
  const c: Case = {
    heads: 7, kvr: 37, rope: 6, blockSize: 5, lengths: [21, 9, 14, 30], rows: [[0, 20], ...chunk(1, 3, 9), [2, 13], [3, 29], [3, 7]],
  };
  const T = c.rows.length;
  it(`each row of T = ${T} gives the bits it gives alone (T = 1), heads ${c.heads} in one call or in groups of 3, 2 and 1`, () => {
    const { attend, olatR, latStride, release: done } = prepare(c);
    const cols = c.heads * c.kvr;
    const olat = (t: number) => readF32(inst, olatR).slice(t * latStride, t * latStride + cols);
    attend();
    const batched = Array.from({ length: T }, (_, t) => olat(t));
    const splits: [string, number[]][] = [['all heads', [c.heads]], ['heads 3 + 3 + 1', [3, 3, 1]], ['heads 2 × 3 + 1', [2, 2, 2, 1]], ['heads one by one', Array(c.heads).fill(1)]];
    for (const [what, groups] of splits) {
      for (let t = 0; t < T; t++) {
        for (let h0 = 0, g = 0; g < groups.length; h0 += groups[g], g++) attend(t, t + 1, h0, groups[g]);
        const alone = olat(t);
        let differing = 0;
        for (let i = 0; i < cols; i++) if (!Object.is(alone[i], batched[t][i])) differing++;
        expect(differing, `${build} mla_attend T=${T}, row ${t} alone, ${what}: ${differing} outputs differ from the batch`).toBe(0);
      }
    }
    done();
  });
});
