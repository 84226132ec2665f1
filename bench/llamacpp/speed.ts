// Decode and prefill speed of the benchmark model in K-quant layouts against
// Q8_0 and against llama.cpp on the same files and thread count, interleaved:
// each round runs `edgeseek bench` and llama.cpp (llamacpp-bench.mjs) on
// every model, one process each, so load from other jobs falls on all alike.
// The fastest of the rounds per engine and model (on a shared machine other
// jobs' load only slows a run), and ratios of those; every run goes to stderr.
// Models first: python3 tools/fixtures/make_bench_model.py --type q8_0 (q4_k_m, q6_k).
// Run: npx tsx bench/llamacpp/speed.ts [--types q8_0,q4_k_m,q6_k] [--threads 1] [--rounds 3] [--prompt-tokens 128] [--gen-tokens 32]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const root = fileURLToPath(new URL('../..', import.meta.url));
const types = (args.get('types') ?? 'q8_0,q4_k_m,q6_k').split(',');
const threads = args.get('threads') ?? '1';
const rounds = Number(args.get('rounds') ?? 3);
const prompt = args.get('prompt-tokens') ?? '128';
const gen = args.get('gen-tokens') ?? '32';

interface Speed { prefill_tok_s: number; decode_tok_s: number }
const runs = new Map<string, { edgeseek: Speed[]; llamacpp: Speed[] }>();
const model = (type: string) => `${root}/fixtures-large/deepseek-v2-lite-3l-${type}.gguf`;
const present = types.filter((t) => existsSync(model(t)) || (console.error(`skipping ${t}: not generated`), false));
const load0 = loadavg()[0];
for (let r = 0; r < rounds; r++) {
  for (const type of present) {
    const entry = runs.get(type) ?? { edgeseek: [], llamacpp: [] };
    runs.set(type, entry);
    entry.edgeseek.push(JSON.parse(execFileSync('node', [`${root}/bin/edgeseek.js`, 'bench', '--model', model(type), '--threads', threads,
      '--prompt-tokens', prompt, '--gen-tokens', gen], { encoding: 'utf8' })) as Speed);
    entry.llamacpp.push(JSON.parse(execFileSync('node', [`${root}/bench/llamacpp/llamacpp-bench.mjs`, model(type), threads, prompt, gen], { encoding: 'utf8' })) as Speed);
    console.error(`round ${r + 1} ${type}: edgeseek ${JSON.stringify(entry.edgeseek.at(-1))} llama.cpp ${JSON.stringify(entry.llamacpp.at(-1))}`);
  }
}
const med = (speeds: Speed[], key: keyof Speed) => Math.max(...speeds.map((s) => s[key]));
const base = runs.get('q8_0');
console.log(`${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${threads} thread(s), prompt ${prompt}, generated ${gen}, best of ${rounds} interleaved rounds, load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
console.log('| weights | edgeseek prefill tok/s | edgeseek decode tok/s | decode ÷ Q8_0 decode | llama.cpp prefill tok/s | llama.cpp decode tok/s | edgeseek ÷ llama.cpp prefill | edgeseek ÷ llama.cpp decode |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [type, { edgeseek, llamacpp }] of runs) {
  const ratioQ8 = base ? (med(edgeseek, 'decode_tok_s') / med(base.edgeseek, 'decode_tok_s')).toFixed(2) : '—';
  console.log(`| ${type} | ${med(edgeseek, 'prefill_tok_s').toFixed(1)} | ${med(edgeseek, 'decode_tok_s').toFixed(1)} | ${ratioQ8} | ${med(llamacpp, 'prefill_tok_s').toFixed(1)} | ${med(llamacpp, 'decode_tok_s').toFixed(1)} | ${(med(edgeseek, 'prefill_tok_s') / med(llamacpp, 'prefill_tok_s')).toFixed(2)} | ${(med(edgeseek, 'decode_tok_s') / med(llamacpp, 'decode_tok_s')).toFixed(2)} |`);
}
