// edgeseek's CPU backend in the three server runtimes, side by side on the
// default model (models/default): Node (`edgeseek serve`), Deno
// (src/entries/deno.ts) and workerd (the real Worker under wrangler's
// Miniflare, as `npm start` runs it). Each serves the OpenAI API; this client
// (another process) alternates the runtimes every round. Measured through
// plain (non-streaming) completions, since workerd's clock stands still during
// compute and its stream arrives at once: time to first token = the wall time
// of a request for one token after a long prompt; decode tok/s = the extra
// tokens of a 65-token request over its extra time against a 1-token one.
// Run: npx tsx bench/runtimes.ts [--rounds 5] [--prompt-tokens 480]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_DIR } from '../src/entries/default-model.ts';
import { fsSource } from '../src/model/source-fs.ts';
import { loadTokenizer } from '../src/tokenizer/load.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(args.get('rounds') ?? 5);
const promptTokens = Number(args.get('prompt-tokens') ?? 480);
const modelDir = `${root}/${DEFAULT_MODEL_DIR}`;

interface Server { name: string; host: string; port: number; model: string; close(): Promise<void> }

function post(server: Server, body: object): Promise<{ ms: number; json: { usage: { prompt_tokens: number; completion_tokens: number } } }> {
  const text = JSON.stringify({ model: server.model, temperature: 0, ...body });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: server.host, port: server.port, method: 'POST', path: '/v1/completions', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - t0, json: JSON.parse(data) }) : reject(new Error(`${server.name}: HTTP ${res.statusCode} ${data}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** A child process serving the API; resolves once it prints its URL. */
function child(name: string, command: string, argv: string[], env: Record<string, string>, model: string): Promise<Server> {
  const proc: ChildProcess = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      const m = /http:\/\/([\d.]+):(\d+)/.exec(d.toString());
      if (m) resolve({ name, host: m[1], port: Number(m[2]), model, close: async () => { proc.kill(); } });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

async function workerd(): Promise<Server> {
  process.env.WRANGLER_SEND_METRICS = 'false';
  const { unstable_startWorker } = await import('wrangler');
  const worker = await unstable_startWorker({
    config: `${root}/wrangler.toml`, assets: modelDir, build: { nodejsCompatMode: 'v2' },
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, logLevel: 'error', persist: false },
  });
  const url = new URL((await worker.url).toString());
  return { name: 'workerd (Miniflare)', host: url.hostname, port: Number(url.port), model: 'default', close: () => worker.dispose() };
}

// A long prompt from the model's held-out reference text, cut to promptTokens by its own tokenizer.
// Each request gets it behind a number of its own: the servers cache prompt prefixes
// (whole blocks), and a repeated prompt would time the cache instead of prefill.
const tokenizer = await loadTokenizer(await fsSource(modelDir));
const texts = (JSON.parse(readFileSync(`${modelDir}/reference/golden.json`, 'utf8')) as { sequences: { text: string }[] }).sequences.map((s) => s.text);
let ids: number[] = [];
for (let i = 0; ids.length < promptTokens; i++) ids = tokenizer.encode(texts.slice(0, (i % texts.length) + 1).join('\n\n').repeat(1 + Math.floor(i / texts.length)));
const longPromptText = tokenizer.decode(ids.slice(0, promptTokens - 4));
let requestNumber = 0;
const longPrompt = (): string => `${++requestNumber}. ${longPromptText}`;
tokenizer.dispose();

const servers = [
  await child('Node', process.execPath, [`${root}/bin/edgeseek.js`, 'serve', '--model', modelDir, '--port', '0', '--model-id', 'default'], {}, 'default'),
  await child('Deno', `${root}/node_modules/.bin/deno`, ['run', '-A', 'src/entries/deno.ts'], { EDGESEEK_MODEL: modelDir, PORT: '0' }, 'default'),
  await workerd(),
];
const results = new Map<string, { ttft: number[]; decode: number[]; promptTokens: number }>();
try {
  for (const s of servers) { await post(s, { prompt: longPrompt(), max_tokens: 1 }); await post(s, { prompt: 'The', max_tokens: 8 }); } // warm-up
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + r) % servers.length];
      const entry = results.get(s.name) ?? { ttft: [], decode: [], promptTokens: 0 };
      const first = await post(s, { prompt: longPrompt(), max_tokens: 1 });
      entry.ttft.push(first.ms);
      entry.promptTokens = first.json.usage.prompt_tokens;
      const one = await post(s, { prompt: 'The Python interpreter', max_tokens: 1 });
      const many = await post(s, { prompt: 'The Python interpreter', max_tokens: 65 });
      entry.decode.push((many.json.usage.completion_tokens - 1) / ((many.ms - one.ms) / 1000));
      results.set(s.name, entry);
    }
  }
} finally {
  for (const s of servers) await s.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const node = results.get('Node')!;
console.log(`edgeseek on models/default in three runtimes, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; median of ${rounds} rounds, runtimes alternating`);
console.log('| runtime | prompt tokens | time to first token ms | ÷ Node | decode tok/s | ÷ Node |');
console.log('|---|---|---|---|---|---|');
for (const [name, r] of results) {
  console.log(`| ${name} | ${r.promptTokens} | ${median(r.ttft).toFixed(1)} | ${(median(r.ttft) / median(node.ttft)).toFixed(2)} | ${median(r.decode).toFixed(0)} | ${(median(r.decode) / median(node.decode)).toFixed(2)} |`);
}
