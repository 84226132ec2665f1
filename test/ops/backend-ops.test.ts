// Every Backend op of every available backend against the float64 reference
// (test/ops/reference.ts) on random data of awkward sizes, outputs poisoned
// first, relative error in each assertion message (ggml's test-backend-ops).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columns, type Activation, type Backend, type DType, type RoutePlan, type Weight } from '../../src/backend/backend.ts';
import { fromF32, toF32 } from '../../src/model/dtype.ts';
import { splitKvB } from '../../src/model/load-weights.ts';
import { DTYPES, weightType } from '../../src/model/weight-types.ts';
import { testBackends } from '../support/backends.ts';
import { BLOCK_DTYPES, BLOCK_FORMATS, randomBlocks } from '../kernels/block-formats.ts';
import {
  matmulRef, mlaNaiveRef, quantizeActInt16Ref, randomArray, relError, rmsnormRef, ropePairsRef, routeRef, siluRef,
} from './reference.ts';
import type { ActivationMode } from '../../src/backend/cpu/integer-kernels.ts';

/**
 * Matmuls against the reference over the activations the kernel multiplies:
 * f32 as given, or in the int16 mode of a type with an integer kernel each
 * block quantized exactly as the kernel does (quantizeActInt16Ref) — so only
 * accumulation order differs.
 */
const TOLERANCE = 2e-6;
/**
 * Attention with a W_UV that has an integer kernel, whose input o_lat the op
 * computes itself, against the unquantized reference: the int16 rounding
 * budget, ≈ 3e-5 per matmul (test/kernels/matmul-int16.test.ts).
 */
const INT16_OP_TOLERANCE = 1e-4;
/**
 * moeExperts whose down projection has an integer kernel: the reference
 * quantizes its float64 SwiGLU output, the op its own f32 one, and where the
 * two straddle a rounding boundary one q differs by one step (amax/16383 of
 * its block). Measured 7.2e-6 with the Q5_0 down experts below (a flip or
 * two); any wrong block sum or scale is ≥ 1e-3.
 */
const SELF_INPUT_TOLERANCE = 2e-5;

/** The activations x [T, K] a matmul with this weight type multiplies in `mode`. */
function seenBy(mode: ActivationMode, dtype: DType, x: ArrayLike<number>, T: number, K: number): ArrayLike<number> {
  return mode === 'int16' && weightType(dtype).cpu.int16 ? quantizeActInt16Ref(x, T, K) : x;
}

/** A row length that is whole blocks of `dtype` and, for float types, not a multiple of 4 or 8. */
function rowLength(dtype: DType): number {
  const { block } = weightType(dtype);
  return block === 1 ? 77 : 3 * block;
}

function weightOf(b: Backend, name: string, dtype: DType, shape: number[], seed: number): { weight: Weight; values: Float32Array } {
  const count = shape.reduce((a, c) => a * c, 1);
  const bytes = fromF32(dtype, randomArray(count, seed));
  // The reference multiplies by exactly the values the file format stores.
  const values = toF32(dtype, bytes, count);
  return { weight: b.uploadWeight({ name, dtype, shape, bytes }, { layer: 0 }), values };
}

/**
 * moeExperts over a route plan with random gate/up [E, I, H] and down [E, H, I]
 * experts of the given types, added onto a random output, against the float64
 * SwiGLU experts over the stored values.
 */
async function expectMoeExperts(
  b: Backend, plan: RoutePlan, experts: Int32Array, weights: Float32Array,
  types: { gate: DType; up: DType; down: DType }, E: number, H: number, I: number, mode: ActivationMode,
): Promise<void> {
  const T = plan.tokens;
  const k = plan.topK;
  const gate = weightOf(b, 'gate', types.gate, [E, I, H], 72);
  const up = weightOf(b, 'up', types.up, [E, I, H], 73);
  const down = weightOf(b, 'down', types.down, [E, H, I], 74);
  const xData = randomArray(T * H, 75);
  const x = b.createActivation(T, H);
  b.write(x, xData);
  const base = randomArray(T * H, 76);
  const out = b.createActivation(T, H);
  b.write(out, base);
  b.moeExperts(x, plan, { gate: gate.weight, up: up.weight, down: down.weight }, out);
  const got = await b.read(out);
  const ref = Float64Array.from(base);
  for (let t = 0; t < T; t++) {
    const xt = xData.subarray(t * H, (t + 1) * H);
    for (let j = 0; j < k; j++) {
      const e = experts[t * k + j];
      const gv = matmulRef(seenBy(mode, types.gate, xt, 1, H), 1, H, gate.values.subarray(e * I * H, (e + 1) * I * H), I);
      const uv = matmulRef(seenBy(mode, types.up, xt, 1, H), 1, H, up.values.subarray(e * I * H, (e + 1) * I * H), I);
      const hv = gv.map((v, i) => siluRef(v) * uv[i]);
      // The down projection's input is the op's own SwiGLU output: where its type has an integer kernel the
      // reference quantizes the float64 values, which the kernel's f32 ones match to rounding.
      const dv = matmulRef(seenBy(mode, types.down, hv, 1, I), 1, I, down.values.subarray(e * H * I, (e + 1) * H * I), H);
      for (let i = 0; i < H; i++) ref[t * H + i] += weights[t * k + j] * dv[i];
    }
  }
  const rel = relError(got, ref);
  const bound = mode === 'int16' && weightType(types.down).cpu.int16 ? SELF_INPUT_TOLERANCE : TOLERANCE;
  expect(rel, `moeExperts ${types.gate}/${types.up}/${types.down} T=${T}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(bound);
  for (const r of [x, out, gate.weight, up.weight, down.weight]) b.release(r);
}

function poisoned(b: Backend, rows: number, cols: number): Activation {
  const act = b.createActivation(rows, cols);
  b.write(act, new Float32Array(rows * cols).fill(NaN));
  return act;
}

for (const { name: backendName, create, activations } of testBackends()) {
  describe(`backend ops: ${backendName}`, () => {
    let b: Backend;
    beforeAll(async () => { b = await create(); });
    afterAll(() => b?.dispose());
    const seen = (dtype: DType, x: ArrayLike<number>, T: number, K: number) => seenBy(activations, dtype, x, T, K);

    for (const dtype of DTYPES) {
      for (const T of [1, 5, 11, 37]) {
        it(`matmul ${dtype} T=${T} on column views (N=37, K=${rowLength(dtype)})`, async () => {
          const N = 37;
          const K = rowLength(dtype);
          const { weight, values } = weightOf(b, `w.${dtype}`, dtype, [N, K], 11);
          const x = b.createActivation(T, K + 5);
          const xData = randomArray(T * (K + 5), 12);
          b.write(x, xData);
          const out = poisoned(b, T, N + 3);
          b.matmul(columns(x, 5, K), weight, columns(out, 2, N));
          const got = await b.read(out);
          const xs = new Float64Array(T * K);
          for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) xs[t * K + k] = xData[t * (K + 5) + 5 + k];
          const ref = matmulRef(seen(dtype, xs, T, K), T, K, values, N);
          const picked = new Float64Array(T * N);
          for (let t = 0; t < T; t++) {
            for (let n = 0; n < N; n++) picked[t * N + n] = got[t * (N + 3) + 2 + n];
            for (const c of [0, 1, N + 2]) expect(Number.isNaN(got[t * (N + 3) + c]), 'columns outside the view untouched').toBe(true);
          }
          const rel = relError(picked, ref);
          expect(rel, `matmul ${dtype} T=${T}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(TOLERANCE);
          b.release(x); b.release(out); b.release(weight);
        });
      }

      it(`embed ${dtype}`, async () => {
        const V = 13;
        const H = Math.max(64, weightType(dtype).block);
        const { weight, values } = weightOf(b, `embed.${dtype}`, dtype, [V, H], 21);
        const ids = Int32Array.from([3, 0, 12, 3]);
        const out = poisoned(b, ids.length, H);
        b.embed(ids, weight, out);
        const got = await b.read(out);
        const ref = new Float64Array(ids.length * H);
        ids.forEach((id, t) => { for (let i = 0; i < H; i++) ref[t * H + i] = values[id * H + i]; });
        const rel = relError(got, ref);
        expect(rel, `embed ${dtype}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(1e-7);
        b.release(out); b.release(weight);
      });
    }

    // Random blocks straight from bytes (block-formats.ts), f16 scales zero, ±subnormal, ±65504
    // or moderate, scale bytes all 0x00 / 0xff: each backend's decoder (Wasm dequantize_*,
    // weights.wgsl) against the reference decoder, row by row.
    for (const dtype of BLOCK_DTYPES) {
      it(`embed ${dtype} of random blocks with edge-case scales decodes as the reference`, async () => {
        const V = 24;
        const H = 2 * BLOCK_FORMATS[dtype].block;
        const { bytes, values } = randomBlocks(dtype, V * H, 91, 'edge');
        const table = b.uploadWeight({ name: `edge.${dtype}`, dtype, shape: [V, H], bytes }, { layer: 0 });
        const ids = Int32Array.from({ length: V }, (_, i) => (i * 7) % V);
        const out = poisoned(b, V, H);
        b.embed(ids, table, out);
        const got = await b.read(out);
        ids.forEach((id, t) => {
          const row = got.subarray(t * H, (t + 1) * H);
          const ref = values.subarray(id * H, (id + 1) * H);
          const rel = ref.some((v) => v !== 0) ? relError(row, ref) : Math.max(...Array.from(row, Math.abs));
          expect(rel, `embed ${dtype} row ${id}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(1e-6);
        });
        b.release(out); b.release(table);
      });
    }

    it('matmul with long rows: f32 K=1030, q4_0 K=1056, T=3', async () => {
      for (const [dtype, K] of [['f32', 1030], ['q4_0', 1056]] as const) {
        const N = 21;
        const T = 3;
        const { weight, values } = weightOf(b, `long.${dtype}`, dtype, [N, K], 13);
        const xData = randomArray(T * K, 14);
        const x = b.createActivation(T, K);
        b.write(x, xData);
        const out = poisoned(b, T, N);
        b.matmul(x, weight, out);
        const rel = relError(await b.read(out), matmulRef(seen(dtype, xData, T, K), T, K, values, N));
        expect(rel, `matmul ${dtype} K=${K}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(TOLERANCE);
        b.release(x); b.release(out); b.release(weight);
      }
    });

    it('rmsnorm in place on a column view (cols 45)', async () => {
      const rows = 3;
      const cols = 45;
      const x = b.createActivation(rows, cols + 4);
      const data = randomArray(rows * (cols + 4), 31, 3);
      b.write(x, data);
      const { weight, values } = weightOf(b, 'norm', 'f32', [cols], 32);
      const view = columns(x, 4, cols);
      b.rmsnorm(view, weight, 1e-6, view);
      const got = await b.read(view);
      const input = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) input[r * cols + i] = data[r * (cols + 4) + 4 + i];
      const rel = relError(got, rmsnormRef(input, rows, cols, values, 1e-6));
      expect(rel, `rmsnorm: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(1e-6);
      b.release(x); b.release(weight);
    });

    it('rope on the rotary part of each head (3 heads of 13, dim 6 at column 7)', async () => {
      const rows = 4;
      const heads = 3;
      const stride = 13;
      const dim = 6;
      const x = b.createActivation(rows, heads * stride);
      const data = randomArray(rows * heads * stride, 41);
      b.write(x, data);
      const invFreq = [1, 0.1, 0.01];
      const positions = [0, 5, 6, 300];
      const cosSin = new Float32Array(rows * dim);
      positions.forEach((p, r) => invFreq.forEach((f, j) => {
        cosSin[(r * 3 + j) * 2] = Math.cos(p * f) * 1.25;
        cosSin[(r * 3 + j) * 2 + 1] = Math.sin(p * f) * 1.25;
      }));
      b.rope(columns(x, 7, heads * stride - 7), cosSin, heads, stride, dim);
      const got = await b.read(x);
      const ref = Float64Array.from(data);
      positions.forEach((p, r) => {
        for (let h = 0; h < heads; h++) {
          const at = r * heads * stride + h * stride + 7;
          ref.set(ropePairsRef(data.subarray(at, at + dim), p, invFreq, 1.25), at);
        }
      });
      const rel = relError(got, ref);
      expect(rel, `rope: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(1e-6);
      b.release(x);
    });

    it('add, swiglu and gatherRows (repeated rows, into a column view)', async () => {
      const rows = 3;
      const cols = 23;
      const xData = randomArray(rows * cols, 51, 4);
      const yData = randomArray(rows * cols, 52, 4);
      const x = b.createActivation(rows, cols);
      const y = b.createActivation(rows, cols);
      b.write(x, xData);
      b.write(y, yData);
      const out = poisoned(b, rows, cols);
      b.swiglu(x, y, out);
      const sw = await b.read(out);
      const swRef = Array.from(xData, (g, i) => siluRef(g) * yData[i]);
      expect(relError(sw, swRef), `swiglu: ‖out−ref‖/‖ref‖ = ${relError(sw, swRef)}`).toBeLessThan(1e-6);
      b.add(x, y);
      const sum = await b.read(x);
      const sumRef = Array.from(xData, (v, i) => v + yData[i]);
      expect(relError(sum, sumRef), `add: ‖out−ref‖/‖ref‖ = ${relError(sum, sumRef)}`).toBeLessThan(1e-7);
      const picked = poisoned(b, 4, cols + 2);
      b.gatherRows(x, Int32Array.of(2, 0, 2), columns(picked, 1, cols));
      const got = await b.read(picked);
      [2, 0, 2].forEach((r, i) => {
        expect(Array.from(got.subarray(i * (cols + 2) + 1, i * (cols + 2) + 1 + cols)), `gathered row ${i} = row ${r}`).toEqual(Array.from(sum.subarray(r * cols, (r + 1) * cols)));
        expect(Number.isNaN(got[i * (cols + 2)]) && Number.isNaN(got[i * (cols + 2) + cols + 1]), 'columns outside the view untouched').toBe(true);
      });
      expect(Array.from(got.subarray(3 * (cols + 2))).every(Number.isNaN), 'rows past the gathered ones untouched').toBe(true);
      for (const a of [x, y, out, picked]) b.release(a);
    });

    // Q4_K/Q6_K kv_b: W_UV per head in the K-quant (rows of kvr = 256), W_UKᵀ dequantized.
    for (const dtype of ['f32', 'f16', 'q8_0', 'q4_k', 'q6_k'] as DType[]) {
      it(`cacheWrite + mlaAttention over block tables (${dtype} kv_b) equal naive decompressed attention: a ragged batch of 3 sequences in blocks of 7, grown mid-way`, async () => {
        const kvr = { 1: 40, 32: 64, 256: 256 }[weightType(dtype).block]!;
        const heads = 3;
        const nope = kvr === 256 ? 8 : 16; // W_UKᵀ [256, 8] in f32 fills one 8 KiB part exactly
        const rope = 8;
        const v = 12;
        const scale = 0.3;
        const blockSize = 7;
        const kvBBytes = fromF32(dtype, randomArray(heads * (nope + v) * kvr, 61, 0.5));
        const kvBValues = toF32(dtype, kvBBytes, heads * (nope + v) * kvr);
        const split = splitKvB({ name: 'kv_b', dtype, shape: [heads * (nope + v), kvr], bytes: kvBBytes }, heads, nope, v, kvr);
        const wkb = b.uploadWeight(split.wkb, { layer: 0 });
        const wvb = b.uploadWeight(split.wvb, { layer: 0 });
        // Three sequences' logical rows; their blocks (43, 4 and 11 of them) shuffled over a pool with 2 spare blocks.
        const lengths = [300, 23, 71];
        const latent = lengths.map((L, s) => randomArray(L * kvr, 62 + s));
        const kpe = lengths.map((L, s) => randomArray(L * rope, 65 + s));
        const counts = lengths.map((L) => Math.ceil(L / blockSize));
        const poolBlocks = counts.reduce((a, c) => a + c, 0) + 2;
        const ids = Array.from({ length: poolBlocks }, (_, i) => (i * 37 + 11) % poolBlocks); // 37 is coprime with 60
        const tables = [ids.slice(0, counts[0]), ids.slice(counts[0], counts[0] + counts[1]), ids.slice(counts[0] + counts[1], poolBlocks - 2)];
        const spare = ids.slice(poolBlocks - 2);
        const blocks = Int32Array.from(tables.flat());
        const tableStart = [0, counts[0], counts[0] + counts[1]];
        // Layer 1 of a 2-layer cache; rows written from views with a gap between c and k_pe.
        const cache = b.createLatentCache(2, blockSize, kvr + rope);
        const write = (rows: [number, number][], values: (s: number, p: number, i: number) => number, table = blocks, starts = tableStart) => {
          const act = b.createActivation(rows.length, kvr + rope + 3);
          const packed = new Float32Array(rows.length * (kvr + rope + 3));
          rows.forEach(([s, p], r) => {
            for (let i = 0; i < kvr; i++) packed[r * (kvr + rope + 3) + i] = values(s, p, i);
            for (let i = 0; i < rope; i++) packed[r * (kvr + rope + 3) + kvr + 3 + i] = values(s, p, kvr + i);
          });
          b.write(act, packed);
          const cacheRows = { positions: Int32Array.from(rows, ([, p]) => p), tableStart: Int32Array.from(rows, ([s]) => starts[s]), blocks: table };
          b.cacheWrite(cache, 1, cacheRows, columns(act, 0, kvr), columns(act, kvr + 3, rope));
          b.release(act);
        };
        const logical = (s: number, p: number, i: number) => (i < kvr ? latent[s][p * kvr + i] : kpe[s][p * rope + i - kvr]);
        const positions = (s: number, from: number, to: number): [number, number][] => Array.from({ length: to - from }, (_, i) => [s, from + i]);
        // Sequence 0 first, in a cache just large enough for its blocks; then the cache grows and keeps them.
        b.growLatentCache(cache, Math.max(...tables[0]) + 1);
        write(positions(0, 0, 300), logical);
        b.growLatentCache(cache, poolBlocks);
        expect(cache.blocks, 'blocks after growing').toBe(poolBlocks);
        // Sequences 1 and 2 interleaved in one write; the spare blocks hold NaN, which no row may read.
        write([...positions(1, 0, 23), ...positions(2, 0, 71)].sort((a, c) => a[1] - c[1]), logical);
        write(positions(0, 0, 2 * blockSize), () => NaN, Int32Array.from(spare), [0]);
        const shape = { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale: scale };
        const batches: [string, [number, number][]][] = [
          ['ragged: decode rows of 3 sequences and a prefill chunk', [[0, 299], ...positions(1, 20, 23), [2, 70], [0, 4]]],
          ['prefill T=70 at 0', positions(2, 0, 70)],
          ['first token', [[1, 0]]],
        ];
        for (const [name, rows] of batches) {
          const T = rows.length;
          const qData = randomArray(T * heads * (nope + rope), 64 + T);
          const q = b.createActivation(T, heads * (nope + rope));
          b.write(q, qData);
          const out = poisoned(b, T, heads * v + 2);
          const cacheRows = { positions: Int32Array.from(rows, ([, p]) => p), tableStart: Int32Array.from(rows, ([s]) => tableStart[s]), blocks };
          b.mlaAttention(q, cache, 1, cacheRows, { wkb, wvb }, shape, columns(out, 1, heads * v));
          const got = await b.read(columns(out, 1, heads * v));
          const ref = new Float64Array(T * heads * v);
          rows.forEach(([s, p], t) => {
            const qRow = qData.subarray(t * heads * (nope + rope), (t + 1) * heads * (nope + rope));
            ref.set(mlaNaiveRef(qRow, 1, p, latent[s], kpe[s], kvBValues, { heads, nope, rope, v, kvr, scale }), t * heads * v);
          });
          const rel = relError(got, ref);
          const bound = activations === 'int16' && weightType(dtype).cpu.int16 ? INT16_OP_TOLERANCE : 2e-6;
          expect(rel, `mla ${dtype} ${name}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(bound);
          b.release(q); b.release(out);
        }
        b.release(cache); b.release(wkb); b.release(wvb);
      });
    }

    // Experts in the block types: gate/up rows of H = 256 (K-quants), down rows of I = 32 (32-element blocks).
    for (const types of [{ gate: 'q4_k', up: 'q5_k', down: 'q5_0' }, { gate: 'q3_k', up: 'iq4_xs', down: 'iq4_nl' }, { gate: 'q2_k', up: 'q6_k', down: 'q5_1' }] as const) {
      it(`moeExperts with ${types.gate} gate, ${types.up} up, ${types.down} down experts (H=256, I=32, top-2 of 8)`, async () => {
        const E = 8;
        for (const T of [1, 19]) {
          const logits = b.createActivation(T, E);
          b.write(logits, randomArray(T * E, 81 + T, 3));
          const plan = await b.route(logits, {
            experts: E, topK: 2, scoring: 'softmax', method: 'greedy', groups: 1, topKGroups: 1, normTopKProb: false, routedScalingFactor: 1,
          });
          const { experts, weights } = await b.readPlan(plan);
          await expectMoeExperts(b, plan, experts, weights, types, E, 256, 32, activations);
          b.release(logits);
        }
      });
    }

    const gatings = [
      { scoring: 'softmax', method: 'greedy', groups: 1, topKGroups: 1, norm: false, scale: 1, k: 2 },
      { scoring: 'softmax', method: 'greedy', groups: 1, topKGroups: 1, norm: true, scale: 1, k: 3 },
      { scoring: 'softmax', method: 'greedy', groups: 1, topKGroups: 1, norm: true, scale: 1, k: 1 },
      { scoring: 'softmax', method: 'greedy', groups: 1, topKGroups: 1, norm: false, scale: 2.5, k: 6 },
      { scoring: 'softmax', method: 'group_limited_greedy', groups: 4, topKGroups: 2, norm: false, scale: 16, k: 3 },
      { scoring: 'softmax', method: 'group_limited_greedy', groups: 8, topKGroups: 3, norm: true, scale: 1, k: 6 },
      // DeepSeek-V3: sigmoid + e_score_correction_bias, one group (Moonlight) or group-limited by top-2 sums.
      { scoring: 'sigmoid', method: 'noaux_tc', groups: 1, topKGroups: 1, norm: true, scale: 2.5, k: 3 },
      { scoring: 'sigmoid', method: 'noaux_tc', groups: 4, topKGroups: 2, norm: true, scale: 2.5, k: 3 },
      { scoring: 'sigmoid', method: 'noaux_tc', groups: 8, topKGroups: 3, norm: false, scale: 1.5, k: 2 },
      { scoring: 'sigmoid', method: 'noaux_tc', groups: 2, topKGroups: 1, norm: true, scale: 0.5, k: 1 },
    ] as const;
    for (const g of gatings) {
      it(`route + moeExperts: ${g.scoring} ${g.method} groups=${g.groups}/${g.topKGroups} k=${g.k} norm=${g.norm} scale=${g.scale}`, async () => {
        const E = 16;
        const H = 64;
        const I = 32;
        // The bias spans about as much as the sigmoid scores: it moves the choice of most tokens.
        const biasValues = g.method === 'noaux_tc' ? randomArray(E, 70, 0.5) : undefined;
        const bias = biasValues && b.uploadWeight(
          { name: 'mlp.gate.e_score_correction_bias', dtype: 'f32', shape: [E], bytes: new Uint8Array(biasValues.buffer) }, { layer: 0 },
        );
        for (const T of [1, 5, 19, 70]) {
          const logitsData = randomArray(T * E, 71 + T, 3);
          // The last token: exact ties everywhere — the lower expert index must win.
          logitsData.fill(0.5, (T - 1) * E, T * E);
          if (T === 1) logitsData.set(randomArray(E, 99, 3).map((x, i) => (i % 3 === 0 ? 1.25 : x)));
          const logits = b.createActivation(T, E + 1);
          b.write(columns(logits, 1, E), logitsData);
          const params = {
            experts: E, topK: g.k, scoring: g.scoring, method: g.method, groups: g.groups, topKGroups: g.topKGroups,
            normTopKProb: g.norm, routedScalingFactor: g.scale, bias,
          };
          const plan = await b.route(columns(logits, 1, E), params);
          const { experts, weights } = await b.readPlan(plan);
          for (let t = 0; t < T; t++) {
            const ref = routeRef(logitsData.subarray(t * E), E, g.k, { ...g, bias: biasValues });
            expect(Array.from(experts.subarray(t * g.k, (t + 1) * g.k)), `T=${T} token ${t} experts`).toEqual(ref.experts);
            const rel = relError(weights.subarray(t * g.k, (t + 1) * g.k), ref.weights);
            expect(rel, `T=${T} token ${t} gate weights: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(1e-6);
          }
          await expectMoeExperts(b, plan, experts, weights, { gate: 'q8_0', up: 'q4_0', down: 'f16' }, E, H, I, activations);
          b.release(logits);
        }
        if (bias) b.release(bias);
      });
    }

    it('route refuses noaux_tc without its bias, or with a bias of the wrong shape', async () => {
      const logits = b.createActivation(2, 8);
      b.write(logits, randomArray(16, 77));
      const params = {
        experts: 8, topK: 2, scoring: 'sigmoid', method: 'noaux_tc', groups: 1, topKGroups: 1, normTopKProb: true, routedScalingFactor: 1,
      } as const;
      expect(() => b.route(logits, params)).toThrow(/noaux_tc needs the layer's e_score_correction_bias/);
      const short = b.uploadWeight({ name: 'blk.1.exp_probs_b.bias', dtype: 'f32', shape: [4], bytes: new Uint8Array(16) }, { layer: 0 });
      expect(() => b.route(logits, { ...params, bias: short })).toThrow(/blk\.1\.exp_probs_b\.bias is f32 \[4\], expected f32 \[8\]/);
      b.release(short); b.release(logits);
    });
  });
}
