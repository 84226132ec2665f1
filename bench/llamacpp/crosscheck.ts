// The independent check that edgeseek reads llama.cpp's own bytes exactly:
// for every file llama.cpp's quantizer wrote (bench/llamacpp/quantize_fixture.py),
// (1) edgeseek's logits against the float64 reference over the file's
//     dequantized weights (must be ≤ 1e-4 relative per position, as for our
//     own fixtures), and
// (2) llama.cpp itself (node-llama-cpp 3.21.1 from bench/peers, CPU, 1 thread)
//     evaluating the same file: next-token distributions (KL divergence,
//     top-1 agreement) and 16-token greedy continuations against edgeseek's.
//     llama.cpp quantizes activations for its K-quant/legacy dot products
//     (Q8_K / Q8_0 / Q8_1), so small differences are expected; a block read
//     wrongly shows as a large KL and a different greedy text. The F32 source
//     file is the first row: llama.cpp's differences with no decoding at all;
//     KL(ref ‖ F32 ref), what quantizing the weights changes, is the scale a
//     misread block would reach.
// Run: python3 bench/llamacpp/quantize_fixture.py && npx tsx bench/llamacpp/crosscheck.ts [--dir fixtures-large/llamacpp-quants] [--backend cpu|webgpu]
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { nodeGpu } from '../../src/backend/webgpu/node-gpu.ts';
import { loadModelRunner } from '../../src/engine/runner.ts';
import { fsSource } from '../../src/model/source-fs.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = args.get('dir') ?? `${root}/fixtures-large/llamacpp-quants`;
const backend = (args.get('backend') ?? 'cpu') as 'cpu' | 'webgpu';
const GREEDY = 16;

interface Manifest { model: string; vocab: number; sequences: number[][]; files: { preset: string; file: string; types: Record<string, number>; logits: string[] }[] }
const manifest = JSON.parse(readFileSync(`${dir}/gguf-k-quants-manifest.json`, 'utf8')) as Manifest;
const V = manifest.vocab;

const { getLlama } = await import(pathToFileURL(`${root}/bench/peers/node_modules/node-llama-cpp/dist/index.js`).href) as typeof import('node-llama-cpp');
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });

const f32 = (path: string) => new Float32Array(readFileSync(path).buffer.slice(0));
function softmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  const p = Float64Array.from(row, (v) => Math.exp(v - max));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}
const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let n = 0, d = 0;
  for (let i = 0; i < b.length; i++) { n += (a[i] - b[i]) ** 2; d += b[i] ** 2; }
  return Math.sqrt(n / d);
};
const argmax = (v: ArrayLike<number>) => { let m = 0; for (let i = 1; i < v.length; i++) if (v[i] > v[m]) m = i; return m; };

console.log(`llama.cpp (node-llama-cpp 3.21.1, CPU, 1 thread) against edgeseek (${backend}, exact f32 activations), ${new Date().toISOString().slice(0, 10)}`);
console.log('| llama.cpp preset | tensor types | edgeseek vs float64 ref (worst per position) | KL(llama.cpp ‖ edgeseek) mean / max | KL(llama.cpp ‖ float64 ref) mean | KL(ref ‖ F32 ref) mean | top-1 agreement | greedy tokens equal |');
console.log('|---|---|---|---|---|---|---|---|');
/** KL(p ‖ q) of two distributions. */
const klOf = (p: ArrayLike<number>, q: ArrayLike<number>) => { let k = 0; for (let i = 0; i < p.length; i++) if (p[i] > 0) k += p[i] * Math.log(p[i] / q[i]); return k; };
const f32Entry = manifest.files.find((f) => f.preset === 'F32')!;
for (const entry of manifest.files) {
  const path = `${dir}/${entry.file}`;
  const runner = await loadModelRunner(await fsSource(path), {
    backend, wasmModule: await loadWasmModuleFromDisk(), gpu: backend === 'webgpu' ? await nodeGpu() : undefined,
  });
  const model = await llama.loadModel({ modelPath: path });
  // An f32 KV cache and no flash attention: llama.cpp's f16 defaults would add their own rounding.
  const context = await model.createContext({
    contextSize: 128, threads: 1, batchSize: 128, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32',
  });
  let worstRef = 0, klSum = 0, klMax = 0, klRefSum = 0, klWeightsSum = 0, positions = 0, top1 = 0, greedySame = 0, greedyTotal = 0;
  for (const [s, ids] of manifest.sequences.entries()) {
    const seq = runner.newSequence(ids.length + GREEDY);
    const logits = await runner.forward(seq, ids, { allLogits: true });
    const reference = f32(`${dir}/${entry.logits[s]}`);
    const f32Reference = f32(`${dir}/${f32Entry.logits[s]}`);
    const lseq = context.getSequence();
    const out = await lseq.controlledEvaluate(ids.map((t) => [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }]));
    for (let p = 0; p < ids.length; p++) {
      const row = logits.subarray(p * V, (p + 1) * V);
      worstRef = Math.max(worstRef, rel(row, reference.subarray(p * V, (p + 1) * V)));
      const q = softmax(row);
      const lp = new Float64Array(V);
      for (const [token, prob] of out[p]!.next.probabilities!) lp[token as number] = prob;
      const kl = klOf(lp, q);
      const refP = softmax(reference.subarray(p * V, (p + 1) * V));
      klRefSum += klOf(lp, refP);
      klWeightsSum += klOf(refP, softmax(f32Reference.subarray(p * V, (p + 1) * V)));
      klSum += kl; klMax = Math.max(klMax, kl); positions++;
      if (argmax(lp) === argmax(q)) top1++;
    }
    // Greedy continuations: edgeseek decodes one token at a time; llama.cpp likewise from its own state.
    let next = argmax(logits.subarray((ids.length - 1) * V, ids.length * V));
    let lnext = argmax(Array.from({ length: V }, (_, i) => out[ids.length - 1]!.next.probabilities!.get(i as never) ?? 0));
    for (let g = 0; g < GREEDY; g++) {
      greedyTotal++;
      if (next !== lnext) break;
      greedySame++;
      const row = await runner.forward(seq, [next]);
      const lo = await lseq.controlledEvaluate([[lnext, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }]]);
      next = argmax(row);
      lnext = argmax(Array.from({ length: V }, (_, i) => lo[0]!.next.probabilities!.get(i as never) ?? 0));
    }
    runner.release(seq);
    lseq.dispose();
  }
  const types = Object.entries(entry.types).filter(([t]) => t !== 'F32').map(([t, n]) => `${n} ${t}`).join(', ');
  console.log(`| ${entry.preset} | ${types} | ${worstRef.toExponential(1)} | ${(klSum / positions).toExponential(1)} / ${klMax.toExponential(1)} | ${(klRefSum / positions).toExponential(1)} | ${(klWeightsSum / positions).toExponential(1)} | ${top1}/${positions} | ${greedySame}/${manifest.sequences.length * GREEDY} |`);
  await context.dispose();
  await model.dispose();
  runner.dispose();
}
