// Deno smoke and kernel check of the WebGPU backend on navigator.gpu (wgpu on
// lavapipe Vulkan, with shader-f16): runs the kernels on random inputs and the
// golden tiny-a model, and prints one JSON object that
// test/webgpu/deno.test.ts asserts on:
//   { adapter, shaderF16, results: [{ name, rel, bound }], golden: [{ name, worst, bound }] }
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { columns, type DType } from '../../../src/backend/backend.ts';
import { createWebGpuBackend } from '../../../src/backend/webgpu/webgpu-backend.ts';
import { fromF32, toF32 } from '../../../src/model/dtype.ts';
import { splitKvB } from '../../../src/model/load-weights.ts';
import { matmulRef, mlaNaiveRef, randomArray, relError, routeRef } from '../../ops/reference.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../../support/golden.ts';
import { relativeError } from '../../support/logits.ts';
import { loadWasmModuleFromDisk } from '../../../src/backend/cpu/wasm-module-node.ts';
import { loadModelRunner } from '../../../src/engine/runner.ts';
import { fsSource } from '../../../src/model/source-fs.ts';

const gpu = (navigator as { gpu?: GPU }).gpu;
if (!gpu) throw new Error('Deno: no navigator.gpu');
const b = await createWebGpuBackend(gpu);
const results: { name: string; rel: number; bound: number }[] = [];

for (const dtype of ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'] as DType[]) {
  for (const T of [1, 11]) {
    const N = 37;
    const K = dtype.startsWith('q') ? 96 : 77;
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

{
  const heads = 5, nope = 16, rope = 8, v = 12, kvr = 40, scale = 0.3, L = 200;
  const kvBBytes = fromF32('f16', randomArray(heads * (nope + v) * kvr, 61, 0.5));
  const split = splitKvB({ name: 'kv_b', dtype: 'f16', shape: [heads * (nope + v), kvr], bytes: kvBBytes }, heads, nope, v, kvr);
  const wkb = b.uploadWeight(split.wkb, { layer: 0 });
  const wvb = b.uploadWeight(split.wvb, { layer: 0 });
  const cache = b.createLatentCache(1, L, kvr + rope);
  const latent = randomArray(L * kvr, 62);
  const kpe = randomArray(L * rope, 63);
  const rows = b.createActivation(L, kvr + rope);
  const packed = new Float32Array(L * (kvr + rope));
  for (let j = 0; j < L; j++) {
    packed.set(latent.subarray(j * kvr, (j + 1) * kvr), j * (kvr + rope));
    packed.set(kpe.subarray(j * rope, (j + 1) * rope), j * (kvr + rope) + kvr);
  }
  b.write(rows, packed);
  b.cacheWrite(cache, 0, 0, columns(rows, 0, kvr), columns(rows, kvr, rope));
  for (const [pos0, T] of [[0, 70], [199, 1]]) {
    const qData = randomArray(T * heads * (nope + rope), 64 + pos0);
    const q = b.createActivation(T, heads * (nope + rope));
    b.write(q, qData);
    const out = b.createActivation(T, heads * v);
    b.mlaAttention(q, cache, 0, pos0, { wkb, wvb }, { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale: scale }, out);
    const ref = mlaNaiveRef(qData, T, pos0, latent, kpe, toF32('f16', kvBBytes, heads * (nope + v) * kvr), { heads, nope, rope, v, kvr, scale });
    results.push({ name: `mlaAttention f16 pos0=${pos0} T=${T}`, rel: relError(await b.read(out), ref), bound: 2e-6 });
    b.release(q); b.release(out);
  }
}

{
  const E = 16, T = 1, k = 6;
  const logitsData = randomArray(T * E, 71, 3);
  const logits = b.createActivation(T, E);
  b.write(logits, logitsData);
  const params = { experts: E, topK: k, method: 'group_limited_greedy', groups: 8, topKGroups: 3, normTopKProb: true, routedScalingFactor: 1 } as const;
  const plan = await b.route(logits, params);
  const got = await b.readPlan(plan);
  const ref = routeRef(logitsData, E, k, { method: 'group_limited_greedy', groups: 8, topKGroups: 3, norm: true, scale: 1 });
  const same = ref.experts.every((e, i) => got.experts[i] === e);
  results.push({ name: 'route group_limited_greedy k=6 (experts equal, weights rel)', rel: same ? relError(got.weights, ref.weights) : Infinity, bound: 1e-6 });
}

const golden = readGolden();
// Every fixture model and every one of its files (all config features, every
// weight format) through the whole model: the references are over the stored
// weights, so the F32 bound holds for them all (issue 4 asks ≤ 5e-3 for f16).
const FIXTURES = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));
const fixtureCases = [...Deno.readDirSync(FIXTURES)].filter((e) => e.isDirectory).map((e) => e.name).sort().flatMap((dir) => {
  const reference = JSON.parse(readFileSync(`${FIXTURES}/${dir}/reference.json`, 'utf8')) as { sets: { sources: string[]; sequences: { ids: number[]; logits_file: string }[] }[] };
  return reference.sets.flatMap((set) => set.sources.map((source) => ({
    label: `${dir} ${source === '.' ? 'safetensors' : source}`,
    path: source === '.' ? `${FIXTURES}/${dir}` : `${FIXTURES}/${dir}/${source}`,
    ids: set.sequences[0].ids,
    logits: `${FIXTURES}/${dir}/${set.sequences[0].logits_file}`,
    bound: source.includes('f16') ? 5e-3 : 1e-4,
  })));
});
const models = [
  { label: 'tiny-a safetensors F32', path: GOLDEN_DIR, ids: golden.sequences[0].ids, logits: `${GOLDEN_DIR}/${golden.sequences[0].logits_file}`, bound: 1e-4 },
  { label: 'tiny-a GGUF Q8_0', path: `${GOLDEN_DIR}/${golden.q8_0.gguf}`, ids: golden.q8_0.sequences[0].ids, logits: `${GOLDEN_DIR}/${golden.q8_0.sequences[0].logits_file}`, bound: 1e-3 },
  ...fixtureCases,
];
const goldenResults: { name: string; worst: number; bound: number }[] = [];
for (const model of models) {
  // navigator.gpu, not test/support's Dawn: the model runs on Deno's own WebGPU.
  const runner = await loadModelRunner(await fsSource(model.path), { backend: 'webgpu', wasmModule: await loadWasmModuleFromDisk(), gpu });
  const seq = runner.newSequence(model.ids.length);
  const logits = await runner.forward(seq, model.ids, { allLogits: true });
  const vocab = runner.config.vocabSize;
  runner.dispose();
  const reference = readF32(model.logits);
  let worst = 0;
  for (let p = 0; p < model.ids.length; p++) {
    worst = Math.max(worst, relativeError(logits.subarray(p * vocab, (p + 1) * vocab), reference.subarray(p * vocab, (p + 1) * vocab)));
  }
  goldenResults.push({ name: `model ${model.label} (${model.ids.length} tokens)`, worst, bound: model.bound });
}

b.dispose();
console.log(JSON.stringify({ adapter: b.gpu.description, shaderF16: b.gpu.shaderF16, featureLevel: b.gpu.featureLevel, results, golden: goldenResults }));
