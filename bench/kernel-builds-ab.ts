// One int16 matmul kernel in two builds of the Wasm module (say, before and
// after a kernel change), interleaved call by call in one process: on this
// shared machine separate runs of bench/kernels.ts move 25 % between runs,
// which hides a 10 % change; alternating the two in one process puts the same
// load on both. Medians of 8 alternating rounds, each over ≥ 256 MB of
// distinct weight copies (never in cache). A developer's tool for kernel
// work, not part of `npm run bench`.
// Make the builds first, e.g.: git stash && npm run build:wasm && cp -r build /tmp/before &&
//   git stash pop && npm run build:wasm && cp -r build /tmp/after
// Run: npx tsx bench/kernel-builds-ab.ts --a /tmp/before --b /tmp/after [--kernel matmul_q8_0_int16]
//      [--t 1,2,4] [--n 2048] [--k 2048] [--build relaxed|plain]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { instantiateKernels } from '../src/backend/cpu/wasm-instance.ts';
import { ACTIVATION_FORMATS } from '../src/backend/cpu/integer-kernels.ts';
import { bytesFor } from '../src/backend/backend.ts';
import { DTYPES, weightType, type DType } from '../src/model/weight-types.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const dirs = [args.get('a'), args.get('b')];
if (!dirs[0] || !dirs[1]) throw new Error('usage: --a BUILD_DIR --b BUILD_DIR (directories holding the built edgeseek*.wasm)');
const kernel = args.get('kernel') ?? 'matmul_q8_0_int16';
const dtype = DTYPES.find((t) => weightType(t).cpu.int16?.kernel === kernel || weightType(t).cpu.int16?.dotAdd === kernel) as DType | undefined;
if (!dtype) throw new Error(`${kernel} is not an int16 kernel of any weight type (src/model/weight-types.ts cpu.int16)`);
const batches = (args.get('t') ?? '1,2,4').split(',').map(Number);
const N = Number(args.get('n') ?? 2048);
const K = Number(args.get('k') ?? 2048);
const file = (args.get('build') ?? 'relaxed') === 'relaxed' ? 'edgeseek-relaxed.wasm' : 'edgeseek.wasm';
// Node 20 has relaxed SIMD behind a flag (src/backend/cpu/wasm-module-node.ts); set before compiling.
if (file === 'edgeseek-relaxed.wasm') setFlagsFromString('--experimental-wasm-relaxed-simd');
const ROUNDS = 8;

const matrixBytes = bytesFor(dtype, [N, K]);
const copies = Math.max(2, Math.ceil((256 << 20) / matrixBytes));
const instances = await Promise.all(dirs.map(async (dir) => instantiateKernels(new WebAssembly.Module(readFileSync(join(dir!, file))))));
const weights = instances.map((inst) => {
  const w = inst.heap.alloc(matrixBytes * copies);
  const u8 = inst.u8();
  // Byte pairs (x, 0x30): every f16 scale a moderate normal half, the quants a spread of values.
  for (let i = 0; i < matrixBytes * copies; i += 2) { u8[w + i] = (i * 7919) & 0xff; u8[w + i + 1] = 0x30; }
  return w;
});

console.log(`${kernel} (${file}), N=${N} K=${K}: A = ${dirs[0]}, B = ${dirs[1]}; medians of ${ROUNDS} alternating rounds`);
console.log('| T | A GFLOP/s | B GFLOP/s | B ÷ A |');
console.log('|---|---|---|---|');
for (const T of batches) {
  const runs = instances.map((inst, v) => {
    const x = inst.heap.alloc(T * K * 4);
    const out = inst.heap.alloc(T * N * 4);
    const xq = inst.heap.alloc(ACTIVATION_FORMATS.int16.bytes(K, T));
    const scratch = inst.heap.alloc(ACTIVATION_FORMATS.int16.scratchBytes(T) + 64);
    const f32 = inst.f32();
    for (let i = 0; i < T * K; i++) f32[x / 4 + i] = Math.sin(i);
    const e = inst.exports as unknown as Record<string, (...a: number[]) => void> & typeof inst.exports;
    e.quantize_act_int16(x, K, T, K, xq);
    return () => { for (let r = 0; r < copies; r++) e[kernel](weights[v] + r * matrixBytes, xq, out, N, N, K, T, scratch); };
  });
  for (const run of runs) run(); // tier-up and first touch
  const ms: number[][] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    for (let v = 0; v < 2; v++) {
      const t0 = performance.now();
      runs[v]();
      ms[v].push((performance.now() - t0) / copies);
    }
  }
  const median = (xs: number[]) => xs.slice().sort((p, q) => p - q)[xs.length >> 1];
  const gflops = (m: number) => (2 * N * K * T) / m / 1e6;
  const [a, b] = ms.map(median);
  console.log(`| ${T} | ${gflops(a).toFixed(1)} | ${gflops(b).toFixed(1)} | ${(a / b).toFixed(2)} |`);
}
