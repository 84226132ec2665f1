// Every WebGPU kernel alone against the float64 references of test/ops on
// random data whose sizes are not multiples of the tiles (8 tokens, 64
// threads, 64-position chunks), outputs poisoned with NaN first; each
// assertion message carries the relative error ‖out − ref‖ / ‖ref‖.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columns, type DType } from '../../src/backend/backend.ts';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.ts';
import { matmulRef, randomArray, relError, rmsnormRef, ropePairsRef, siluRef } from '../ops/reference.ts';
import { expectRel, poisoned, weightOf } from './fixtures.ts';
import { NO_GPU, webgpuBackend } from './gpu-backend.ts';

const DTYPES: DType[] = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'];

// Small parts force weights across several buffers, as a binding limit would.
for (const [label, options] of [['whole weights', {}], ['weights split into 1 KiB parts', { maxPartBytes: 1024 }]] as const) {
  describe.skipIf(NO_GPU)(`webgpu kernels (${label})`, () => {
    let b: WebGpuBackend;
    beforeAll(async () => { b = await webgpuBackend(options); });
    afterAll(() => b?.dispose());

    for (const dtype of DTYPES) {
      for (const T of [1, 11, 37]) {
        it(`matmul ${dtype} T=${T} on column views`, async () => {
          const N = 37;
          const K = dtype.startsWith('q') ? 96 : 77;
          const { weight, values } = weightOf(b, `w.${dtype}`, dtype, [N, K], 11);
          const x = b.createActivation(T, K + 5);
          const xData = randomArray(T * (K + 5), 12);
          b.write(x, xData);
          const out = poisoned(b, T, N + 3);
          b.matmul(columns(x, 5, K), weight, columns(out, 2, N));
          const got = await b.read(out);
          const xs = new Float64Array(T * K);
          for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) xs[t * K + k] = xData[t * (K + 5) + 5 + k];
          const ref = matmulRef(xs, T, K, values, N);
          const picked = new Float64Array(T * N);
          for (let t = 0; t < T; t++) {
            for (let n = 0; n < N; n++) picked[t * N + n] = got[t * (N + 3) + 2 + n];
            for (const c of [0, 1, N + 2]) expect(Number.isNaN(got[t * (N + 3) + c]), 'columns outside the view untouched').toBe(true);
          }
          const rel = relError(picked, ref);
          expectRel(rel, 2e-6, `matmul ${dtype} T=${T}`);
          b.release(x); b.release(out); b.release(weight);
        });
      }

      it(`embed ${dtype}`, async () => {
        const V = 13;
        const H = dtype.startsWith('q') ? 64 : 61;
        const { weight, values } = weightOf(b, `embed.${dtype}`, dtype, [V, H], 21);
        const ids = Int32Array.from([3, 0, 12, 3, 7]);
        const out = poisoned(b, ids.length, H);
        b.embed(ids, weight, out);
        const got = await b.read(out);
        const ref = new Float64Array(ids.length * H);
        ids.forEach((id, t) => { for (let i = 0; i < H; i++) ref[t * H + i] = values[id * H + i]; });
        const rel = relError(got, ref);
        expectRel(rel, 1e-7, `embed ${dtype}`);
        b.release(out); b.release(weight);
      });
    }

    it.skipIf('maxPartBytes' in options)('matmul with long rows (64 invocations per row): f32 K=1030, q4_0 K=1056, T=3', async () => {
      for (const [dtype, K] of [['f32', 1030], ['q4_0', 1056]] as const) {
        const N = 21;
        const T = 3;
        const { weight, values } = weightOf(b, `long.${dtype}`, dtype, [N, K], 13);
        const xData = randomArray(T * K, 14);
        const x = b.createActivation(T, K);
        b.write(x, xData);
        const out = poisoned(b, T, N);
        b.matmul(x, weight, out);
        const rel = relError(await b.read(out), matmulRef(xData, T, K, values, N));
        expectRel(rel, 2e-6, `matmul ${dtype} K=${K}`);
        b.release(x); b.release(out); b.release(weight);
      }
    });

    it('rmsnorm in place on a column view (cols 45) and into another activation (cols 130)', async () => {
      for (const [cols, inPlace] of [[45, true], [130, false]] as const) {
        const rows = 3;
        const x = b.createActivation(rows, cols + 4);
        const data = randomArray(rows * (cols + 4), 31, 3);
        b.write(x, data);
        const { weight, values } = weightOf(b, 'norm', 'f32', [cols], 32);
        const view = columns(x, 4, cols);
        const out = inPlace ? x : poisoned(b, rows, cols);
        const outView = inPlace ? view : out;
        b.rmsnorm(view, weight, 1e-6, outView);
        const got = await b.read(outView);
        const input = new Float64Array(rows * cols);
        for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) input[r * cols + i] = data[r * (cols + 4) + 4 + i];
        const rel = relError(got, rmsnormRef(input, rows, cols, values, 1e-6));
        expectRel(rel, 1e-6, `rmsnorm cols=${cols} inPlace=${inPlace}`);
        b.release(x); b.release(weight); if (!inPlace) b.release(out);
      }
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
      expectRel(rel, 1e-6, `rope`);
      b.release(x);
    });

    it.skipIf('maxPartBytes' in options)('add over 1100×4100 (more than 65535 workgroups: a 2-D dispatch)', async () => {
      const rows = 1100;
      const cols = 4100;
      const xData = randomArray(rows * cols, 53);
      const yData = randomArray(rows * cols, 54);
      const x = b.createActivation(rows, cols);
      const y = b.createActivation(rows, cols);
      b.write(x, xData);
      b.write(y, yData);
      b.add(x, y);
      const got = await b.read(x);
      const ref = Float64Array.from(xData, (v, i) => v + yData[i]);
      expectRel(relError(got, ref), 1e-7, 'add 2-D dispatch');
      b.release(x); b.release(y);
    });

    it('add, swiglu (also in place) and copyRows on 3×23 views', async () => {
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
      expectRel(relError(sw, swRef), 1e-6, `swiglu`);
      b.add(x, y);
      const sum = await b.read(x);
      const sumRef = Array.from(xData, (v, i) => v + yData[i]);
      expectRel(relError(sum, sumRef), 1e-7, `add`);
      const last = poisoned(b, 1, cols);
      b.copyRows(x, 2, 1, last);
      expect(Array.from(await b.read(last))).toEqual(Array.from(sum.subarray(2 * cols)));
      b.swiglu(x, y, x);
      const inPlace = await b.read(x);
      const inPlaceRef = Array.from(sum, (g, i) => siluRef(g) * yData[i]);
      expectRel(relError(inPlace, inPlaceRef), 1e-6, `swiglu in place`);
      for (const a of [x, y, out, last]) b.release(a);
    });
  });
}
