// Decode attention cost against context length on the CPU backend, at
// DeepSeek-V2-Lite's attention dimensions (16 heads, kv_lora 512, rope 64,
// nope 128, v 128): one absorbed MLA step (T = 1) over a latent cache of L
// tokens, per layer. Bytes read per step: L × 576 × 4 of cache plus the
// per-head W_UKᵀ / W_UV; the step should grow linearly in L.
// Run: npx tsx bench/attention-context.ts [--dtype q8_0] [--contexts 128,1024,4096,16384]
import { createCpuBackend } from '../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk } from '../src/backend/cpu/wasm-module-node.ts';
import { filledCache, MLA_DIMS, mlaStep } from './mla-step.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const contexts = (args.get('contexts') ?? '128,1024,4096,16384').split(',').map(Number);
const dtype = (args.get('dtype') ?? 'q8_0') as 'q8_0' | 'f16' | 'f32';

const b = await createCpuBackend(await loadWasmModuleFromDisk());
const step = mlaStep(b, dtype);
const rows: string[] = [];
for (const L of contexts) {
  const { cache, decode } = await filledCache(b, L);
  const runs = Math.max(5, Math.round(20000 / L));
  b.mlaAttention(step.q, cache, 0, decode, step.weights, step.shape, step.out);
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) b.mlaAttention(step.q, cache, 0, decode, step.weights, step.shape, step.out);
  const ms = (performance.now() - t0) / runs;
  const cacheBytes = L * (MLA_DIMS.kvr + MLA_DIMS.rope) * 4;
  rows.push(`| ${L} | ${ms.toFixed(3)} | ${(cacheBytes / 1e6).toFixed(1)} | ${((cacheBytes / (ms / 1000)) / 1e9).toFixed(2)} |`);
  b.release(cache);
}
console.log(`MLA decode attention, one layer, CPU backend (W_UK/W_UV ${dtype}), ${new Date().toISOString().slice(0, 10)}`);
console.log('| context | ms / token / layer | latent cache MB read | cache GB/s |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
step.release();
b.dispose();
