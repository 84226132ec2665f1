// Matmul kernel throughput on the CPU backend's Wasm module, both SIMD builds
// side by side: weight GB/s streamed for decode (T = 1) and GFLOP/s for
// batches, against the single-thread read bandwidth measured in the same run.
// <dtype>_int16 rows are the int16-activation kernels (activations quantized
// once per call by quantize_act_int16, included in the time); the Q4_0 one
// runs its _dotadd twin where the build's self-test passes that op.
// --rounds R repeats every measurement R times, kinds and builds interleaved,
// and keeps the fastest (a busy machine's noise only slows).
// Run: npx tsx bench/kernels.ts [--n 2048 --k 2048 --t 1,16,64 --dtypes q8_0,q8_0_int16 --builds plain,relaxed
//      --rounds 1 --working-set-mb 256]
import { instantiateKernels, type WasmInstance } from '../src/backend/cpu/wasm-instance.ts';
import { loadRelaxedWasmModuleFromDisk, loadWasmModuleFromDisk } from '../src/backend/cpu/wasm-module-node.ts';
import { measureReadBandwidth } from '../src/backend/cpu/bandwidth.ts';
import { bytesFor, type DType } from '../src/backend/backend.ts';
import { rowScratchBytes } from '../src/backend/cpu/kernel-exports.ts';
import { ACTIVATION_FORMATS, integerKernel } from '../src/backend/cpu/integer-kernels.ts';
import { relaxedOpsOf } from '../src/backend/cpu/kernel-build.ts';
import { weightType } from '../src/model/weight-types.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const N = Number(args.get('n') ?? 2048);
const K = Number(args.get('k') ?? 2048);
const batches = (args.get('t') ?? '1,4,16,64').split(',').map(Number);
const rounds = Number(args.get('rounds') ?? 1);
const workingSet = Number(args.get('working-set-mb') ?? 256) * 1024 * 1024;
const kinds = (args.get('dtypes') ?? 'q8_0,q8_0_int16,q4_0,q4_0_int16,q4_k,q6_k,f16,bf16,f32').split(',');
const builds = (args.get('builds') ?? 'plain,relaxed').split(',');

const instances: Record<string, WasmInstance> = {};
for (const build of builds) {
  const module = build === 'relaxed' ? await loadRelaxedWasmModuleFromDisk() : await loadWasmModuleFromDisk();
  if (!module) throw new Error(`the ${build} build does not compile here`);
  instances[build] = await instantiateKernels(module);
}
const bandwidth = await measureReadBandwidth(await loadWasmModuleFromDisk());

interface Case { kind: string; build: string; T: number; matrixBytes: number; copies: number; run: (wp: number) => void; w: number; seconds: number }
const cases: Case[] = [];
for (const kind of kinds) {
  const int16 = kind.endsWith('_int16');
  const dtype = kind.replace(/_int16$/, '') as DType;
  const matrixBytes = bytesFor(dtype, [N, K]);
  // Enough distinct matrices per kind that its working set (≥ --working-set-mb) never sits in cache.
  const copies = Math.max(2, Math.ceil(workingSet / matrixBytes));
  for (const build of builds) {
    const inst = instances[build];
    const w = inst.heap.alloc(matrixBytes * copies);
    const u8 = inst.u8();
    for (let i = 0; i < matrixBytes * copies; i += 2) { u8[w + i] = (i * 7919) & 0xff; u8[w + i + 1] = 0x30; }
    for (const T of batches) {
      const x = inst.heap.alloc(T * K * 4);
      const out = inst.heap.alloc(T * N * 4);
      const f32 = inst.f32();
      for (let i = 0; i < T * K; i++) f32[x / 4 + i] = Math.sin(i);
      const xq = inst.heap.alloc(ACTIVATION_FORMATS.int16.bytes(K, T));
      const scratch = inst.heap.alloc(Math.max(rowScratchBytes(K), ACTIVATION_FORMATS.int16.scratchBytes(T)));
      const e = inst.exports as unknown as Record<string, (...a: number[]) => void> & typeof inst.exports;
      const name = int16 ? integerKernel(dtype, relaxedOpsOf(e))! : weightType(dtype).cpu.matmul;
      const run = int16
        ? (wp: number) => { e.quantize_act_int16(x, K, T, K, xq); e[name](wp, xq, out, N, N, K, T, scratch); }
        : (wp: number) => e[name](wp, x, K, out, N, N, K, T, scratch);
      cases.push({ kind, build, T, matrixBytes, copies, run, w, seconds: Infinity });
    }
  }
}
// Rounds interleave the kinds and builds, so a busy spell slows them all; each keeps its fastest round.
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    const reps = Math.max(c.copies, Math.ceil(c.copies * 4 / c.T));
    c.run(c.w);
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) c.run(c.w + (r % c.copies) * c.matrixBytes);
    c.seconds = Math.min(c.seconds, (performance.now() - t0) / 1000 / reps);
  }
}
console.log(`single-thread Wasm read bandwidth: ${(bandwidth / 1e9).toFixed(2)} GB/s (${new Date().toISOString().slice(0, 10)}), N=${N} K=${K}, best of ${rounds} interleaved rounds`);
console.log(`| dtype | T | ${builds.map((b) => `${b} GB/s | ${b} GFLOP/s`).join(' | ')} |${builds.length === 2 ? ` ${builds[1]} ÷ ${builds[0]} |` : ''}`);
console.log(`|---|---|${builds.map(() => '---|---|').join('')}${builds.length === 2 ? '---|' : ''}`);
for (const kind of kinds) {
  for (const T of batches) {
    const row = builds.map((b) => cases.find((c) => c.kind === kind && c.build === b && c.T === T)!);
    const cells = row.map((c) => `${(c.matrixBytes / c.seconds / 1e9).toFixed(2)} | ${((2 * N * K * T) / c.seconds / 1e9).toFixed(1)}`);
    const ratio = row.length === 2 ? ` ${(row[0].seconds / row[1].seconds).toFixed(2)} |` : '';
    console.log(`| ${kind} | ${T} | ${cells.join(' | ')} |${ratio}`);
  }
}
