// The WebGPU kernels on Deno's navigator.gpu against the float64 references:
// matmul in every weight format of the type table, absorbed MLA attention,
// group-limited routing (V2's softmax and V3's sigmoid + correction bias).
// Run by test/webgpu/deno/run.ts.
import { columns, type Backend, type DType } from '../../../src/backend/backend.ts';
import { fromF32, toF32 } from '../../../src/model/dtype.ts';
import { splitKvB } from '../../../src/model/load-weights.ts';
import { DTYPES, weightType } from '../../../src/model/weight-types.ts';
import { BLOCK_DTYPES, BLOCK_FORMATS, randomBlocks } from '../../kernels/block-formats.ts';
import { matmulRef, mlaNaiveRef, randomArray, relError, routeRef } from '../../ops/reference.ts';

export interface KernelResult { name: string; rel: number; bound: number }

export async function kernelChecks(b: Backend): Promise<KernelResult[]> {
  const results: KernelResult[] = [];
  // Every weight type of the table (weights.wgsl's decoders, shader-f16 available or not).
  for (const dtype of DTYPES as DType[]) {
    for (const T of [1, 11]) {
      const N = 37;
      const K = weightType(dtype).block === 1 ? 77 : 3 * weightType(dtype).block;
      const bytes = fromF32(dtype, randomArray(N * K, 11));
      const w = b.uploadWeight({ name: `w.${dtype}`, dtype, shape: [N, K], bytes }, { layer: 0 });
      const xData = randomArray(T * K, 12);
      const x = b.createActivation(T, K);
      b.write(x, xData);
      const out = b.createActivation(T, N);
      b.write(out, new Float32Array(T * N).fill(NaN));
      b.matmul(x, w, out);
      const rel = relError(await b.read(out), matmulRef(xData, T, K, toF32(dtype, bytes, N * K), N));
      results.push({ name: `matmul ${dtype} T=${T}`, rel, bound: 2e-6 });
      b.release(x); b.release(out); b.release(w);
    }
  }

  // Random blocks with edge-case f16 scales (zero, ±subnormal, ±65504) through weights.wgsl's decoders.
  for (const dtype of BLOCK_DTYPES) {
    const V = 8;
    const H = 2 * BLOCK_FORMATS[dtype].block;
    const { bytes, values } = randomBlocks(dtype, V * H, 91, 'edge');
    const table = b.uploadWeight({ name: `edge.${dtype}`, dtype, shape: [V, H], bytes }, { layer: 0 });
    const out = b.createActivation(V, H);
    b.embed(Int32Array.from({ length: V }, (_, i) => i), table, out);
    const got = await b.read(out);
    let worst = 0;
    for (let r = 0; r < V; r++) {
      const ref = values.subarray(r * H, (r + 1) * H);
      if (ref.some((x) => x !== 0)) worst = Math.max(worst, relError(got.subarray(r * H, (r + 1) * H), ref));
    }
    results.push({ name: `embed ${dtype} edge-case blocks (worst row)`, rel: worst, bound: 1e-6 });
    b.release(out); b.release(table);
  }

  {
    const heads = 5, nope = 16, rope = 8, v = 12, kvr = 40, scale = 0.3, L = 200;
    const kvBBytes = fromF32('f16', randomArray(heads * (nope + v) * kvr, 61, 0.5));
    const split = splitKvB({ name: 'kv_b', dtype: 'f16', shape: [heads * (nope + v), kvr], bytes: kvBBytes }, heads, nope, v, kvr);
    const wkb = b.uploadWeight(split.wkb, { layer: 0 });
    const wvb = b.uploadWeight(split.wvb, { layer: 0 });
    // Blocks of 16 positions in reverse order: the attention reads through the block table.
    const blocks = Int32Array.from({ length: Math.ceil(L / 16) }, (_, i) => Math.ceil(L / 16) - 1 - i);
    const cache = b.createLatentCache(1, 16, kvr + rope);
    b.growLatentCache(cache, blocks.length);
    const at = (pos0: number, T: number) => ({ positions: Int32Array.from({ length: T }, (_, t) => pos0 + t), tableStart: new Int32Array(T), blocks });
    const latent = randomArray(L * kvr, 62);
    const kpe = randomArray(L * rope, 63);
    const rows = b.createActivation(L, kvr + rope);
    const packed = new Float32Array(L * (kvr + rope));
    for (let j = 0; j < L; j++) {
      packed.set(latent.subarray(j * kvr, (j + 1) * kvr), j * (kvr + rope));
      packed.set(kpe.subarray(j * rope, (j + 1) * rope), j * (kvr + rope) + kvr);
    }
    b.write(rows, packed);
    b.cacheWrite(cache, 0, at(0, L), columns(rows, 0, kvr), columns(rows, kvr, rope));
    for (const [pos0, T] of [[0, 70], [199, 1]]) {
      const qData = randomArray(T * heads * (nope + rope), 64 + pos0);
      const q = b.createActivation(T, heads * (nope + rope));
      b.write(q, qData);
      const out = b.createActivation(T, heads * v);
      b.mlaAttention(q, cache, 0, at(pos0, T), { wkb, wvb }, { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale: scale }, out);
      const ref = mlaNaiveRef(qData, T, pos0, latent, kpe, toF32('f16', kvBBytes, heads * (nope + v) * kvr), { heads, nope, rope, v, kvr, scale });
      results.push({ name: `mlaAttention f16 pos0=${pos0} T=${T}`, rel: relError(await b.read(out), ref), bound: 2e-6 });
      b.release(q); b.release(out);
    }
  }

  for (const method of ['group_limited_greedy', 'noaux_tc'] as const) {
    const E = 16, T = 1, k = 6;
    const logitsData = randomArray(T * E, 71, 3);
    const logits = b.createActivation(T, E);
    b.write(logits, logitsData);
    const scoring = method === 'noaux_tc' ? 'sigmoid' : 'softmax';
    const biasValues = method === 'noaux_tc' ? randomArray(E, 72, 0.5) : undefined;
    const bias = biasValues && b.uploadWeight({ name: 'bias', dtype: 'f32', shape: [E], bytes: new Uint8Array(biasValues.buffer) }, { layer: 0 });
    const params = { experts: E, topK: k, scoring, method, groups: 8, topKGroups: 3, normTopKProb: true, routedScalingFactor: 1, bias } as const;
    const plan = await b.route(logits, params);
    const got = await b.readPlan(plan);
    const ref = routeRef(logitsData, E, k, { scoring, method, groups: 8, topKGroups: 3, norm: true, scale: 1, bias: biasValues });
    const same = ref.experts.every((e, i) => got.experts[i] === e);
    results.push({ name: `route ${method} k=6 (experts equal, weights rel)`, rel: same ? relError(got.weights, ref.weights) : Infinity, bound: 1e-6 });
    b.release(logits);
    if (bias) b.release(bias);
  }
  return results;
}
