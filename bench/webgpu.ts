// WebGPU benchmark, one command for a real GPU machine:
//   npx tsx bench/webgpu.ts [--model fixtures-large/deepseek-v2-lite-3l-q8_0.gguf]
//     [--prompt-tokens 128] [--gen-tokens 32] [--contexts 512,4096,16384]
//     [--peak-gbs 4800] [--dawn vulkan|opengles|d3d12|metal] [--dawn-flags 'a=b;c=d']
//     [--skip-model] [--out FILE]
// bench/webgpu-gpu-machine.sh wraps it for a GPU machine; on this project's
// CPU-only CI it runs at small sizes on llvmpipe (--dawn opengles).
// (or under Deno: deno run -A bench/webgpu.ts ..., which uses navigator.gpu).
// Reports, as JSON: prefill and decode tok/s; per-kernel GPU time for one
// prefill and one decode step (timestamp queries where the adapter has them,
// else per-dispatch submit timing); decode attention time at each context at
// DeepSeek-V2-Lite's dimensions; bytes moved per decode step and the achieved
// bandwidth, as a fraction of --peak-gbs (the GPU's datasheet figure) and of
// a measured buffer-copy bandwidth.
import { writeFileSync } from 'node:fs';
import { loadWasmModuleFromDisk } from '../src/backend/cpu/wasm-module-node.ts';
import type { KernelTiming } from '../src/backend/webgpu/recorder.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backend/webgpu/webgpu-backend.ts';
import { loadModelRunner } from '../src/engine/runner.ts';
import { filledCache, MLA_DIMS, mlaStep } from './mla-step.ts';
import { fsSource } from '../src/model/source-fs.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const key = process.argv[i].replace(/^--/, '');
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith('--')) args.set(key, 'true');
  else { args.set(key, next); i++; }
}
const modelPath = args.get('model') ?? 'fixtures-large/deepseek-v2-lite-3l-q8_0.gguf';
const promptTokens = Number(args.get('prompt-tokens') ?? 128);
const genTokens = Number(args.get('gen-tokens') ?? 32);
const contexts = (args.get('contexts') ?? '512,4096,16384').split(',').map(Number);
const peakGbs = args.has('peak-gbs') ? Number(args.get('peak-gbs')) : null;

async function gpuEntry(): Promise<GPU> {
  const native = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (native) return native;
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const flags = args.has('dawn') ? [`backend=${args.get('dawn')}`] : [];
  if (args.has('dawn-flags')) flags.push(...args.get('dawn-flags')!.split(';'));
  return create(flags);
}

/** Sums per-dispatch times by kernel (first word of the label, weight names folded by role). */
function byKernel(timings: KernelTiming[]): Record<string, { ms: number; dispatches: number }> {
  const out: Record<string, { ms: number; dispatches: number }> = {};
  for (const { label, ms } of timings) {
    let key = label.startsWith('mla ') ? label : label.split(' ')[0];
    if (key === 'matmul' || key === 'moe') {
      const name = label.slice(key.length + 1);
      if (/experts\.|_exps/.test(name)) key = 'moe experts';
      else if (/lm_head|^output/.test(name)) key = 'lm_head';
      else if (/W_UK|W_UV/.test(name)) key = 'mla absorb (W_UK/W_UV)';
      else if (key === 'moe') key = label;
    }
    out[key] ??= { ms: 0, dispatches: 0 };
    out[key].ms += ms;
    out[key].dispatches++;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1].ms - a[1].ms));
}

/** Device-to-device copy bandwidth (bytes read + written per second) of a 256 MiB buffer. */
async function copyBandwidth(b: WebGpuBackend): Promise<number> {
  const device = b.rec.device;
  const bytes = Math.min(256 * 1024 * 1024, b.gpu.maxBufferSize / 2);
  const src = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_SRC });
  const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST });
  const run = async (n: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await run(1);
  const ms = await run(4);
  src.destroy(); dst.destroy();
  return (2 * bytes * 4) / (ms / 1000);
}

/** One absorbed MLA decode step (T = 1) over L cached positions, V2-Lite attention dims, per layer. */
async function attentionAtContexts(b: WebGpuBackend): Promise<unknown[]> {
  const { rope, kvr } = MLA_DIMS;
  const step = mlaStep(b, 'q8_0');
  const { q, out, weights, shape } = step;
  const { wkb, wvb } = weights;
  const rows = [];
  for (const L of contexts) {
    const { cache, decode } = await filledCache(b, L);
    b.mlaAttention(q, cache, 0, decode, { wkb, wvb }, shape, out);
    await b.read(out);
    const runs = Math.max(3, Math.min(50, Math.round(200_000 / L)));
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) b.mlaAttention(q, cache, 0, decode, { wkb, wvb }, shape, out);
    await b.read(out);
    const ms = (performance.now() - t0) / runs;
    b.startProfiling();
    b.mlaAttention(q, cache, 0, decode, { wkb, wvb }, shape, out);
    const kernels = byKernel(await b.stopProfiling());
    const bytes = L * (kvr + rope) * 4 + wkb.byteLength + wvb.byteLength;
    rows.push({ context: L, ms_per_layer_step: ms, bytes_read: bytes, gb_s: bytes / (ms / 1000) / 1e9, kernels });
    b.release(cache);
  }
  step.release();
  return rows;
}

const backend = await createWebGpuBackend(await gpuEntry());
const report: Record<string, unknown> = { adapter: backend.gpu.description, feature_level: backend.gpu.featureLevel, shader_f16: backend.gpu.shaderF16 };
const copyBytesS = await copyBandwidth(backend);
report.copy_bandwidth_gb_s = copyBytesS / 1e9;
report.attention = await attentionAtContexts(backend);

if (args.get('skip-model') !== 'true') {
  const runner = await loadModelRunner(await fsSource(modelPath), backend, { maxBatch: Math.max(1, promptTokens), wasmModule: await loadWasmModuleFromDisk() });
  const c = runner.config;
  const ids: number[] = [];
  let state = 12345;
  for (let i = 0; i < promptTokens; i++) { state = (state * 1103515245 + 12345) % 2 ** 31; ids.push(state % c.vocabSize); }
  // Warm-up (pipeline compilation, scratch allocation) on a throwaway sequence.
  const warm = runner.newSequence(promptTokens + 2);
  await runner.forward(warm, ids);
  await runner.forward(warm, [1]);
  runner.release(warm);

  const seq = runner.newSequence(promptTokens + genTokens + 2);
  const t0 = performance.now();
  let logits = await runner.forward(seq, ids);
  const prefillMs = performance.now() - t0;
  const t1 = performance.now();
  for (let i = 0; i < genTokens; i++) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    logits = await runner.forward(seq, [best]);
  }
  const decodeMs = (performance.now() - t1) / genTokens;
  const profileMode = backend.startProfiling();
  await runner.forward(seq, [1]);
  const decodeKernels = byKernel(await backend.stopProfiling());
  runner.release(seq);
  const profSeq = runner.newSequence(promptTokens);
  backend.startProfiling();
  await runner.forward(profSeq, ids);
  const prefillKernels = byKernel(await backend.stopProfiling());
  runner.release(profSeq);

  const context = promptTokens + genTokens / 2;
  const kvBytes = c.numLayers * context * (c.kvLoraRank + c.qkRopeHeadDim) * 4;
  const stepBytes = runner.decodeWeightBytes + kvBytes;
  const achieved = stepBytes / (decodeMs / 1000);
  Object.assign(report, {
    model: modelPath,
    prompt_tokens: promptTokens,
    gen_tokens: genTokens,
    prefill_tok_s: promptTokens / (prefillMs / 1000),
    decode_tok_s: 1000 / decodeMs,
    weight_bytes: runner.weightBytes,
    decode_bytes_per_step: { weights: runner.decodeWeightBytes, latent_cache: kvBytes, total: stepBytes },
    decode_achieved_gb_s: achieved / 1e9,
    decode_fraction_of_copy_bandwidth: achieved / copyBytesS,
    decode_fraction_of_peak: peakGbs ? achieved / (peakGbs * 1e9) : null,
    kernel_timing: profileMode,
    decode_kernels_ms: decodeKernels,
    prefill_kernels_ms: prefillKernels,
  });
  runner.dispose();
} else {
  backend.dispose();
}
const text = JSON.stringify(report, null, 2);
if (args.has('out')) writeFileSync(args.get('out')!, `${text}\n`);
process.stdout.write(`${text}\n`);
