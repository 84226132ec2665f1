// WebGPU MLA attention (absorbed, flash-decoding splits) against the naive
// decompressed float64 reference, and the gating + expert FFN kernels against
// routeRef / matmulRef, both for the GPU-resident decode plan and the
// host-regrouped prefill plan. Outputs poisoned first; rel errors in messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columns, type DType } from '../../src/backend/backend.ts';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.ts';
import { fromF32, toF32 } from '../../src/model/dtype.ts';
import { splitKvB } from '../../src/model/load-weights.ts';
import { matmulRef, mlaNaiveRef, randomArray, relError, routeRef, siluRef } from '../ops/reference.ts';
import { NO_GPU, webgpuBackend } from './gpu-backend.ts';
import { expectRel, poisoned, weightOf } from './fixtures.ts';

const GATINGS = [
  { method: 'greedy', groups: 1, topKGroups: 1, norm: false, scale: 1, k: 2 },
  { method: 'greedy', groups: 1, topKGroups: 1, norm: true, scale: 1, k: 3 },
  { method: 'greedy', groups: 1, topKGroups: 1, norm: true, scale: 1, k: 1 },
  { method: 'greedy', groups: 1, topKGroups: 1, norm: false, scale: 2.5, k: 6 },
  { method: 'group_limited_greedy', groups: 4, topKGroups: 2, norm: false, scale: 16, k: 3 },
  { method: 'group_limited_greedy', groups: 8, topKGroups: 3, norm: true, scale: 1, k: 6 },
] as const;

for (const [label, options] of [
  ['plans on the GPU, whole weights', { hostRouteMinTokens: Infinity }],
  ['prefill plans regrouped on the host, experts split across parts', { maxPartBytes: 4096 }],
] as const) {
  describe.skipIf(NO_GPU)(`webgpu attention and MoE (${label})`, () => {
    let b: WebGpuBackend;
    beforeAll(async () => { b = await webgpuBackend(options); });
    afterAll(() => b?.dispose());

    for (const dtype of ['f32', 'f16', 'q8_0'] as DType[]) {
      it(`mlaAttention ${dtype} kv_b: prefill T=3 at 4, decode at 7, prefill T=70 at 0, decode at 299 (5 splits)`, async () => {
        const heads = 5;
        const nope = 16;
        const rope = 8;
        const v = 12;
        const kvr = dtype === 'q8_0' ? 64 : 40;
        const scale = 0.3;
        const kvBBytes = fromF32(dtype, randomArray(heads * (nope + v) * kvr, 61, 0.5));
        const kvBValues = toF32(dtype, kvBBytes, heads * (nope + v) * kvr);
        const split = splitKvB({ name: 'kv_b', dtype, shape: [heads * (nope + v), kvr], bytes: kvBBytes }, heads, nope, v, kvr);
        const wkb = b.uploadWeight(split.wkb, { layer: 0 });
        const wvb = b.uploadWeight(split.wvb, { layer: 0 });
        const L = 300;
        const cache = b.createLatentCache(2, L, kvr + rope);
        const latent = randomArray(L * kvr, 62);
        const kpe = randomArray(L * rope, 63);
        const rows = b.createActivation(L, kvr + rope + 3);
        const packed = new Float32Array(L * (kvr + rope + 3));
        for (let j = 0; j < L; j++) {
          packed.set(latent.subarray(j * kvr, (j + 1) * kvr), j * (kvr + rope + 3));
          packed.set(kpe.subarray(j * rope, (j + 1) * rope), j * (kvr + rope + 3) + kvr + 3);
        }
        b.write(rows, packed);
        b.cacheWrite(cache, 1, 0, columns(rows, 0, kvr), columns(rows, kvr + 3, rope));
        const shape = { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale: scale };
        for (const [pos0, T] of [[4, 3], [7, 1], [0, 70], [299, 1]]) {
          const qData = randomArray(T * heads * (nope + rope), 64 + pos0);
          const q = b.createActivation(T, heads * (nope + rope));
          b.write(q, qData);
          const out = poisoned(b, T, heads * v + 2);
          b.mlaAttention(q, cache, 1, pos0, { wkb, wvb }, shape, columns(out, 1, heads * v));
          const got = await b.read(columns(out, 1, heads * v));
          const ref = mlaNaiveRef(qData, T, pos0, latent, kpe, kvBValues, { heads, nope, rope, v, kvr, scale });
          const rel = relError(got, ref);
          expectRel(rel, 2e-6, `mla ${dtype} pos0=${pos0} T=${T}`);
          b.release(q); b.release(out);
        }
        b.release(cache); b.release(rows); b.release(wkb); b.release(wvb);
      });
    }

    for (const g of GATINGS) {
      it(`route + moeExperts: ${g.method} groups=${g.groups}/${g.topKGroups} k=${g.k} norm=${g.norm} scale=${g.scale}`, async () => {
        const E = 16;
        const H = 64;
        const I = 32;
        for (const T of [1, 5, 19, 70]) {
          const logitsData = randomArray(T * E, 71 + T, 3);
          // The last token: exact ties everywhere — the lower expert index must win.
          logitsData.fill(0.5, (T - 1) * E, T * E);
          if (T === 1) logitsData.set(randomArray(E, 99, 3).map((x, i) => (i % 3 === 0 ? 1.25 : x)));
          const logits = b.createActivation(T, E + 1);
          b.write(columns(logits, 1, E), logitsData);
          const params = {
            experts: E, topK: g.k, method: g.method, groups: g.groups, topKGroups: g.topKGroups,
            normTopKProb: g.norm, routedScalingFactor: g.scale,
          };
          const plan = await b.route(columns(logits, 1, E), params);
          const { experts, weights } = await b.readPlan(plan);
          for (let t = 0; t < T; t++) {
            const ref = routeRef(logitsData.subarray(t * E), E, g.k, { method: g.method, groups: g.groups, topKGroups: g.topKGroups, norm: g.norm, scale: g.scale });
            expect(Array.from(experts.subarray(t * g.k, (t + 1) * g.k)), `T=${T} token ${t} experts`).toEqual(ref.experts);
            const rel = relError(weights.subarray(t * g.k, (t + 1) * g.k), ref.weights);
            expectRel(rel, 1e-6, `T=${T} token ${t} gate weights`);
          }
          const gate = weightOf(b, 'gate', 'q8_0', [E, I, H], 72);
          const up = weightOf(b, 'up', 'q4_0', [E, I, H], 73);
          const down = weightOf(b, 'down', 'f16', [E, H, I], 74);
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
            for (let j = 0; j < g.k; j++) {
              const e = experts[t * g.k + j];
              const gv = matmulRef(xt, 1, H, gate.values.subarray(e * I * H, (e + 1) * I * H), I);
              const uv = matmulRef(xt, 1, H, up.values.subarray(e * I * H, (e + 1) * I * H), I);
              const hv = gv.map((v, i) => siluRef(v) * uv[i]);
              const dv = matmulRef(hv, 1, I, down.values.subarray(e * H * I, (e + 1) * H * I), H);
              for (let i = 0; i < H; i++) ref[t * H + i] += weights[t * g.k + j] * dv[i];
            }
          }
          const rel = relError(got, ref);
          expectRel(rel, 2e-6, `moeExperts T=${T}`);
          for (const r of [logits, x, out, gate.weight, up.weight, down.weight]) b.release(r);
        }
      });
    }
  });
}
