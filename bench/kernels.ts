// Matmul kernel throughput on the CPU backend's Wasm module: weight GB/s
// streamed for decode (T = 1) and tokens·rows/s for prefill-sized batches,
// against the single-thread read bandwidth measured in the same run.
// q8_0_i16 / q4_0_i16 are the int16-activation kernels (activations quantized
// once per call by quantize_act_i16, included in the time).
// --rounds R repeats every measurement R times, the kinds interleaved, and
// keeps the fastest (a busy machine's noise only slows).
// Run: npx tsx bench/kernels.ts [--n 2048 --k 2048 --t 1,16,64 --dtypes q8_0,q8_0_i16 --rounds 1 --working-set-mb 256]
import { instantiateKernels } from '../src/backend/cpu/wasm-instance.ts';
import { loadWasmModuleFromDisk } from '../src/backend/cpu/wasm-module-node.ts';
import { measureReadBandwidth } from '../src/backend/cpu/bandwidth.ts';
import { bytesFor, type DType } from '../src/backend/backend.ts';
import { ACT_I16_BLOCK_BYTES, rowScratchBytes } from '../src/backend/cpu/kernel-exports.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const N = Number(args.get('n') ?? 2048);
const K = Number(args.get('k') ?? 2048);
const batches = (args.get('t') ?? '1,4,16,64').split(',').map(Number);
const rounds = Number(args.get('rounds') ?? 1);
const workingSet = Number(args.get('working-set-mb') ?? 256) * 1024 * 1024;
const kinds = (args.get('dtypes') ?? 'q8_0,q8_0_i16,q4_0,q4_0_i16,q4_k,q6_k,f16,bf16,f32').split(',');
// Enough distinct matrices per kind that its working set (≥ --working-set-mb) never sits in cache.
const module = await loadWasmModuleFromDisk();
const inst = await instantiateKernels(module);
const bandwidth = await measureReadBandwidth(module);

interface Case { kind: string; T: number; matrixBytes: number; copies: number; run: (wp: number) => void; w: number; seconds: number }
const cases: Case[] = [];
for (const kind of kinds) {
  const int16 = kind.endsWith('_i16');
  const dtype = kind.replace(/_i16$/, '') as DType;
  const matrixBytes = bytesFor(dtype, [N, K]);
  const copies = Math.max(2, Math.ceil(workingSet / matrixBytes));
  const w = inst.heap.alloc(matrixBytes * copies);
  const u8 = inst.u8();
  for (let i = 0; i < matrixBytes * copies; i += 2) { u8[w + i] = (i * 7919) & 0xff; u8[w + i + 1] = 0x30; }
  for (const T of batches) {
    const x = inst.heap.alloc(T * K * 4);
    const out = inst.heap.alloc(T * N * 4);
    const f32 = inst.f32();
    for (let i = 0; i < T * K; i++) f32[x / 4 + i] = Math.sin(i);
    const xq = inst.heap.alloc(T * (K / 32) * ACT_I16_BLOCK_BYTES);
    const scratch = inst.heap.alloc(rowScratchBytes(K));
    const e = inst.exports;
    const run = int16
      ? (wp: number) => { e.quantize_act_i16(x, K, T, K, xq); e[`matmul_${dtype as 'q8_0' | 'q4_0'}_i16`](wp, xq, out, N, N, K, T); }
      : (wp: number) => e[`matmul_${dtype}`](wp, x, K, out, N, N, K, T, scratch);
    cases.push({ kind, T, matrixBytes, copies, run, w, seconds: Infinity });
  }
}
// Rounds interleave the kinds, so a busy spell slows them all; each keeps its fastest round.
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    const reps = Math.max(c.copies, Math.ceil(c.copies * 4 / c.T));
    c.run(c.w);
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) c.run(c.w + (r % c.copies) * c.matrixBytes);
    c.seconds = Math.min(c.seconds, (performance.now() - t0) / 1000 / reps);
  }
}
console.log(`single-thread Wasm read bandwidth: ${(bandwidth / 1e9).toFixed(2)} GB/s (${new Date().toISOString().slice(0, 10)}), best of ${rounds} interleaved rounds`);
console.log('| dtype | T | GB/s of weights | fraction of read bandwidth | GFLOP/s |');
console.log('|---|---|---|---|---|');
for (const c of cases) {
  const gbs = c.matrixBytes / c.seconds;
  const flops = (2 * N * K * c.T) / c.seconds;
  console.log(`| ${c.kind} | ${c.T} | ${(gbs / 1e9).toFixed(2)} | ${(gbs / bandwidth).toFixed(2)} | ${(flops / 1e9).toFixed(1)} |`);
}
