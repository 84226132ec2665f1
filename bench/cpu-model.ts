// The CPU backend on the generated benchmark models (DeepSeek-V2-Lite
// dimensions, 3 layers): `edgeseek bench` for each weight type present in
// fixtures-large/ at 1 and 2 threads, as one markdown table. Generate the
// models first: python3 tools/fixtures/make_bench_model.py --type q8_0 (q4_0, q4_k_m, q6_k, f16).
// Run: npx tsx bench/cpu-model.ts [--threads 1,2] [--prompt-tokens 128] [--gen-tokens 32]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const root = fileURLToPath(new URL('..', import.meta.url));
const threads = (args.get('threads') ?? '1,2').split(',');
const extra = (args.get('activations') ? ['--activations', args.get('activations')!] : []);
const rows: string[] = [];
for (const type of ['q8_0', 'q4_0', 'q4_k_m', 'q6_k', 'f16']) {
  const model = `${root}/fixtures-large/deepseek-v2-lite-3l-${type}.gguf`;
  if (!existsSync(model)) { console.error(`skipping ${type}: ${model} not generated`); continue; }
  for (const t of threads) {
    const out = execFileSync('node', [`${root}/bin/edgeseek.js`, 'bench', '--model', model, '--threads', t,
      '--prompt-tokens', args.get('prompt-tokens') ?? '128', '--gen-tokens', args.get('gen-tokens') ?? '32', ...extra], { encoding: 'utf8' });
    const r = JSON.parse(out);
    rows.push(`| ${type} | ${t} | ${(r.weight_bytes / 1e9).toFixed(2)} GB | ${r.wasm_memories} | ${r.prefill_tok_s.toFixed(1)} | ${r.decode_tok_s?.toFixed(1) ?? '—'} | ${(r.read_bandwidth_bytes_s / 1e9).toFixed(1)} | ${r.decode_bound_tok_s.toFixed(1)} | ${r.decode_fraction_of_bound?.toFixed(2) ?? '—'} | ${r.peak_rss_over_weights_and_cache.toFixed(2)} |`);
    console.error(rows[rows.length - 1]);
  }
}
console.log(`edgeseek bench, ${new Date().toISOString().slice(0, 10)}, prompt ${args.get('prompt-tokens') ?? 128}, generated ${args.get('gen-tokens') ?? 32}`);
console.log('| weights | threads | weight bytes | Wasm memories | prefill tok/s | decode tok/s | read GB/s (1 thread) | decode bound tok/s | decode ÷ bound | peak RSS ÷ (weights + cache) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
