// Two threads against one on single matmuls of the benchmark model's shapes,
// interleaved in one process (this machine's noise moves separate runs by
// 25 %): for each weight type and token count, the CPU backend's matmul with
// threads = 1 and with the pool, best of --rounds timings each, and the ratio.
// Run: npx tsx bench/thread-scaling.ts [--types q8_0,q4_k] [--t 1,16,128] [--threads 2] [--rounds 7]
import { createCpuBackend } from '../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk, loadWasmThreadsModuleFromDisk } from '../src/backend/cpu/wasm-module-node.ts';
import type { Backend, DType } from '../src/backend/backend.ts';
import { fromF32 } from '../src/model/dtype.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const types = (args.get('types') ?? 'q8_0,q4_k,q6_k').split(',') as DType[];
const tokens = (args.get('t') ?? '1,16,128').split(',').map(Number);
const threads = Number(args.get('threads') ?? 2);
const rounds = Number(args.get('rounds') ?? 7);
// DeepSeek-V2-Lite's dense FFN (N = 10944, K = 2048) is the largest; a routed expert's is 1408 x 2048.
const [N, K] = (args.get('shape') ?? '2816,2048').split(',').map(Number);

const plain = await loadWasmModuleFromDisk();
const one = await createCpuBackend(plain);
const many = await createCpuBackend(await loadWasmThreadsModuleFromDisk(), { threads, threadsModule: await loadWasmThreadsModuleFromDisk() });

function values(count: number, seed: number): Float32Array {
  const v = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) { s = (s * 1103515245 + 12345) >>> 0; v[i] = (s / 2 ** 32 - 0.5) * 0.2; }
  return v;
}

function timeMatmul(b: Backend, dtype: DType, T: number): () => number {
  const weight = b.uploadWeight({ name: `w.${dtype}`, dtype, shape: [N, K], bytes: fromF32(dtype, values(N * K, 1)) }, { layer: 0 });
  const x = b.createActivation(T, K);
  b.write(x, values(T * K, 2));
  const out = b.createActivation(T, N);
  b.matmul(x, weight, out);
  return () => {
    const t0 = performance.now();
    b.matmul(x, weight, out);
    return performance.now() - t0;
  };
}

console.log(`matmul [${N}, ${K}], ${threads} threads against 1, best of ${rounds} interleaved, ${new Date().toISOString().slice(0, 10)}`);
console.log('| weights | T | 1 thread GFLOP/s | pool GFLOP/s | pool ÷ 1 |');
console.log('|---|---|---|---|---|');
for (const dtype of types) {
  for (const T of tokens) {
    const runs = [timeMatmul(one, dtype, T), timeMatmul(many, dtype, T)];
    const best = [Infinity, Infinity];
    for (let r = 0; r < rounds; r++) for (let i = 0; i < 2; i++) best[i] = Math.min(best[i], runs[i]());
    const gflops = (ms: number) => (2 * N * K * T / ms / 1e6).toFixed(1);
    console.log(`| ${dtype} | ${T} | ${gflops(best[0])} | ${gflops(best[1])} | ${(best[0] / best[1]).toFixed(2)} |`);
  }
}
one.dispose();
many.dispose();
