// edgeseek's CPU backend against llama.cpp (native, node-llama-cpp 3.21.1 in
// bench/peers) on the same GGUF file, the same deterministic 128-token prompt
// and the same thread count, both engines in this one Node process, runs
// alternating (the order flips every round) so the load other jobs put on the
// machine falls on both. Prefill: one forward pass over the prompt (llama.cpp:
// one batch, as llama-bench -p); decode: greedy single tokens after it (as
// llama-bench -n). Medians over the rounds; the ratio columns are what count.
// edgeseek runs slower in a process that also hosts llama.cpp (two-thread
// prefill 76-90 tok/s here against 125-154 in processes of its own, on
// 2026-12-06; BENCHMARKS.md, "Correction"), so for threads compare with
// bench/llamacpp/speed.ts, which runs each engine in a process of its own.
// Run: npx tsx bench/llama-cpp.ts [--types q8_0,q4_0] [--threads 1,2] [--rounds 5]
//      [--prompt-tokens 128] [--gen-tokens 32] [--activations f32|int16] [--simd auto|plain|relaxed]
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ActivationMode } from '../src/backend/cpu/integer-kernels.ts';
import type { SimdChoice } from '../src/backend/cpu/kernel-build.ts';
import { loadKernelModulesFromDisk } from '../src/backend/cpu/wasm-module-node.ts';
import { benchPromptIds } from '../src/cli/bench-prompt.ts';
import { loadModelRunner } from '../src/engine/runner.ts';
import type { ModelRunner } from '../src/engine/runner-types.ts';
import { fsSource } from '../src/model/source-fs.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const root = fileURLToPath(new URL('..', import.meta.url));
const types = (args.get('types') ?? 'q8_0,q4_0').split(',');
const threadCounts = (args.get('threads') ?? '1,2').split(',').map(Number);
const rounds = Number(args.get('rounds') ?? 5);
const P = Number(args.get('prompt-tokens') ?? 128);
const G = Number(args.get('gen-tokens') ?? 32);
const activations = args.get('activations') as ActivationMode | undefined;
const simd = (args.get('simd') ?? 'auto') as SimdChoice;

const peer = `${root}/bench/peers/node_modules/node-llama-cpp/dist/index.js`;
if (!existsSync(peer)) throw new Error('node-llama-cpp is not installed: cd bench/peers && npm ci');
const { getLlama } = await import(pathToFileURL(peer).href);
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });

interface Timing { prefill: number; decode: number }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function edgeseekRun(runner: ModelRunner, ids: number[]): Promise<Timing> {
  const seq = runner.newSequence(P + G + 1);
  let t0 = performance.now();
  let logits = await runner.forward(seq, ids);
  const prefill = P / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let i = 0; i < G; i++) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    logits = await runner.forward(seq, [best]);
  }
  const decode = G / ((performance.now() - t0) / 1000);
  runner.release(seq);
  return { prefill, decode };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function llamaRun(context: any, ids: number[]): Promise<Timing> {
  const sequence = context.getSequence();
  let t0 = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(ids.slice(0, P - 1));
  const prefill = (P - 1) / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  let n = 0;
  // The prompt's last token, then G − 1 greedy ones: G single-token forward passes.
  for await (const _ of sequence.evaluate([ids[P - 1]], { temperature: 0 })) if (++n >= G) break;
  const decode = G / ((performance.now() - t0) / 1000);
  sequence.dispose();
  return { prefill, decode };
}

const rows: string[] = [];
const modules = await loadKernelModulesFromDisk({ threads: threadCounts.some((t) => t > 1) });
for (const type of types) {
  const path = `${root}/fixtures-large/deepseek-v2-lite-3l-${type}.gguf`;
  if (!existsSync(path)) { console.error(`skipping ${type}: ${path} not generated (tools/fixtures/make_bench_model.py)`); continue; }
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  for (const threads of threadCounts) {
    const context = await model.createContext({ contextSize: 2 * (P + G), batchSize: P, threads, sequences: 1 });
    const runner = await loadModelRunner(await fsSource(path), { wasmModule: modules, simd, threads, activations });
    const ids = benchPromptIds(P, runner.config.vocabSize);
    const ours: Timing[] = [];
    const theirs: Timing[] = [];
    await edgeseekRun(runner, ids); // warm-up: tier-up of the Wasm code, first-touch of scratch
    await llamaRun(context, ids);
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) { ours.push(await edgeseekRun(runner, ids)); theirs.push(await llamaRun(context, ids)); }
      else { theirs.push(await llamaRun(context, ids)); ours.push(await edgeseekRun(runner, ids)); }
    }
    const e = { prefill: median(ours.map((t) => t.prefill)), decode: median(ours.map((t) => t.decode)) };
    const l = { prefill: median(theirs.map((t) => t.prefill)), decode: median(theirs.map((t) => t.decode)) };
    const row = `| ${type} | ${threads} | ${runner.activations} | ${runner.backend.kernelBuild} | ${e.prefill.toFixed(1)} | ${l.prefill.toFixed(1)} | ${(e.prefill / l.prefill).toFixed(2)} | ${e.decode.toFixed(1)} | ${l.decode.toFixed(1)} | ${(e.decode / l.decode).toFixed(2)} |`;
    rows.push(row);
    console.error(row);
    runner.dispose();
    await context.dispose();
  }
  await model.dispose();
}
console.log(`edgeseek vs llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; prompt ${P}, generated ${G}, median of ${rounds} alternating rounds`);
console.log('| weights | threads | edgeseek activations | edgeseek SIMD | edgeseek prefill tok/s | llama.cpp prefill tok/s | prefill ratio | edgeseek decode tok/s | llama.cpp decode tok/s | decode ratio |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
