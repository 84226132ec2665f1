// Decode attention cost against context length on the CPU backend, at
// DeepSeek-V2-Lite's attention dimensions (16 heads, kv_lora 512, rope 64,
// nope 128, v 128): one absorbed MLA step (T = 1) over a latent cache of L
// tokens, per layer. Bytes read per step: L × 576 × 4 of cache plus the
// per-head W_UKᵀ / W_UV; the step should grow linearly in L.
// Run: npx tsx bench/attention-context.ts [--dtype q8_0] [--contexts 128,1024,4096,16384]
import { columns } from '../src/backend/backend.ts';
import { createCpuBackend } from '../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk } from '../src/backend/cpu/wasm-module-node.ts';
import { fromF32 } from '../src/model/dtype.ts';
import { splitKvB } from '../src/model/load-weights.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const contexts = (args.get('contexts') ?? '128,1024,4096,16384').split(',').map(Number);
const dtype = (args.get('dtype') ?? 'q8_0') as 'q8_0' | 'f16' | 'f32';
const heads = 16, nope = 128, rope = 64, v = 128, kvr = 512;

function random(n: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2 ** 31; out[i] = (s / 2 ** 31 - 0.5) * 0.2; }
  return out;
}

const b = await createCpuBackend(await loadWasmModuleFromDisk());
const kvB = fromF32(dtype, random(heads * (nope + v) * kvr, 1));
const split = splitKvB({ name: 'kv_b', dtype, shape: [heads * (nope + v), kvr], bytes: kvB }, heads, nope, v, kvr);
const wkb = b.uploadWeight(split.wkb, { layer: 0 });
const wvb = b.uploadWeight(split.wvb, { layer: 0 });
const shape = { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale: 0.07 };
const q = b.createActivation(1, heads * (nope + rope));
b.write(q, random(heads * (nope + rope), 2));
const out = b.createActivation(1, heads * v);
const rows: string[] = [];
for (const L of contexts) {
  const cache = b.createLatentCache(1, L, kvr + rope);
  const chunk = 1024;
  const fill = b.createActivation(Math.min(chunk, L), kvr + rope);
  for (let p = 0; p < L; p += chunk) {
    const n = Math.min(chunk, L - p);
    b.write(fill, random(n * (kvr + rope), 3 + p));
    const view = b.createActivation(n, kvr + rope);
    b.copyRows(fill, 0, n, view);
    b.cacheWrite(cache, 0, p, columns(view, 0, kvr), columns(view, kvr, rope));
    b.release(view);
  }
  b.release(fill);
  const runs = Math.max(5, Math.round(20000 / L));
  b.mlaAttention(q, cache, 0, L - 1, { wkb, wvb }, shape, out);
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) b.mlaAttention(q, cache, 0, L - 1, { wkb, wvb }, shape, out);
  const ms = (performance.now() - t0) / runs;
  const cacheBytes = L * (kvr + rope) * 4;
  rows.push(`| ${L} | ${ms.toFixed(3)} | ${(cacheBytes / 1e6).toFixed(1)} | ${((cacheBytes / (ms / 1000)) / 1e9).toFixed(2)} |`);
  b.release(cache);
}
console.log(`MLA decode attention, one layer, CPU backend (W_UK/W_UV ${dtype}), ${new Date().toISOString().slice(0, 10)}`);
console.log('| context | ms / token / layer | latent cache MB read | cache GB/s |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
b.dispose();
