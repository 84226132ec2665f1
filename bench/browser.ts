// edgeseek against wllama (llama.cpp compiled to Wasm, @wllama/wllama in
// bench/peers) in the same headless Chromium (Debian's, through
// puppeteer-core), on the same GGUF and the same deterministic prompt, runs
// alternating between the two (each engine in its own tab). edgeseek runs its
// CPU backend on one thread (its thread pool needs node:worker_threads), with
// the kernel build its self-test picks there; wllama runs at each --threads
// count (multi-threaded through its cross-origin-isolated pthreads build).
// Prefill: the prompt in one pass (wllama: llama-server's prompt timing);
// decode: greedy tokens after it (wllama: its predicted-token timing).
// wllama 3.13.0 fails ("Invalid magic number" from its worker's message decoder) when it generates more than
// about ten tokens of the random-weight Q8_0 model after this prompt, so the default is 8 generated tokens.
// Run: npx tsx bench/browser.ts [--types q8_0,q4_0] [--threads 1,2] [--rounds 3] [--prompt-tokens 128] [--gen-tokens 8]
import { createReadStream, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPromptIds } from '../src/cli/bench-prompt.ts';
import { fsSource } from '../src/model/source-fs.ts';
import { loadTokenizer } from '../src/tokenizer/load.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const root = fileURLToPath(new URL('..', import.meta.url));
const types = (args.get('types') ?? 'q8_0,q4_0').split(',');
const threadCounts = (args.get('threads') ?? '1,2').split(',').map(Number);
const rounds = Number(args.get('rounds') ?? 3);
const P = Number(args.get('prompt-tokens') ?? 128);
const G = Number(args.get('gen-tokens') ?? 8);
const peers = join(root, 'bench/peers/node_modules');
const chromium = '/usr/lib/chromium/chromium';
if (!existsSync(join(peers, '@wllama/wllama'))) throw new Error('wllama is not installed: cd bench/peers && npm ci');
if (!existsSync(chromium)) throw new Error(`no Chromium at ${chromium} (Debian: apt-get install chromium)`);

// The edgeseek page module, bundled for the browser (Node built-ins stay in lazily loaded chunks it never loads).
const bundle = mkdtempSync(join(tmpdir(), 'edgeseek-bench-page-'));
const { build } = await import('esbuild');
await build({
  entryPoints: [join(root, 'bench/browser/edgeseek-page.ts')], bundle: true, format: 'esm', splitting: true, platform: 'browser',
  external: ['node:*', 'fs', 'fs/promises', 'stream', 'url', 'path'], outdir: bundle, logLevel: 'warning',
});

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.gguf': 'application/octet-stream' };
/** URL path → file: the page, its bundle, the kernels, wllama's files, the benchmark models (as <type>/model.gguf). */
function resolve(path: string): string | undefined {
  if (path === '/page.html') return join(bundle, 'page.html');
  if (path.startsWith('/page/')) return join(bundle, path.slice(6));
  if (/^\/build\/[\w.-]+\.wasm$/.test(path)) return join(root, path);
  if (path.startsWith('/wllama/')) return join(peers, '@wllama/wllama/esm', path.slice(8));
  const model = /^\/models\/(\w+)\/model\.gguf$/.exec(path);
  if (model) return join(root, `fixtures-large/deepseek-v2-lite-3l-${model[1]}.gguf`);
  return undefined;
}
writeFileSync(join(bundle, 'page.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="/page/edgeseek-page.js"></script>');
const server = http.createServer((req, res) => {
  const file = resolve(new URL(req.url ?? '/', 'http://x').pathname);
  // Cross-origin isolation: SharedArrayBuffer for wllama's threads.
  const headers: Record<string, string | number> = {
    'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin',
    'Accept-Ranges': 'bytes', 'Content-Type': TYPES[extname(file ?? '')] ?? 'application/octet-stream',
  };
  if (!file || !existsSync(file)) { res.writeHead(404, headers).end(); return; }
  const size = statSync(file).size;
  const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Number(range[2]) : size - 1;
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
    createReadStream(file, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': size });
  createReadStream(file).pipe(res);
});
await new Promise<void>((r) => server.listen(0, r));
const port = (server.address() as { port: number }).port;
const origin = `http://127.0.0.1:${port}`;
// wllama's tab under another host name: another site, so its own renderer process (two 1.8 GB models in
// one renderer made wllama's worker fail).
const peerOrigin = `http://localhost:${port}`;

const { default: puppeteer } = await import('puppeteer-core');
const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--js-flags=--max-old-space-size=8192'], protocolTimeout: 1_800_000 });
const version = await browser.version();

interface Timing { prefill: number; decode: number }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[] = [];
try {
  for (const type of types) {
    if (!existsSync(resolve(`/models/${type}/model.gguf`)!)) { console.error(`skipping ${type}: not generated (tools/fixtures/make_bench_model.py)`); continue; }
    // wllama takes text prompts only: the benchmark ids decoded by the model's own (GGUF) tokenizer; llama.cpp
    // re-tokenizes them into about as many tokens, and its timing reports how many (prompt_n).
    const tokenizer = await loadTokenizer(await fsSource(resolve(`/models/${type}/model.gguf`)!));
    const text = tokenizer.decode(benchPromptIds(P, 102400));
    tokenizer.dispose();
    for (const threads of threadCounts) {
      const theirs = await browser.newPage();
      await theirs.goto(`${peerOrigin}/page.html`);
      await theirs.evaluate(async (t: string, n: number, ctx: number, batch: number) => {
        const { Wllama } = await import('/wllama/index.js' as string);
        const w = new Wllama({ default: '/wllama/wasm/wllama.wasm' }, { suppressNativeLog: true });
        w.setCompat(null);
        const blob = await (await fetch(`/models/${t}/model.gguf`)).blob();
        await w.loadModel([blob], { n_threads: n, n_ctx: ctx, n_batch: batch, n_ubatch: batch, n_gpu_layers: 0 });
        (globalThis as any).wllama = w;
      }, type, threads, 2 * (P + G), P);
      // edgeseek's tab opens after wllama has loaded: the other order made wllama's worker fail on the Q8_0 file.
      const ours = await browser.newPage();
      await ours.goto(`${origin}/page.html`);
      await ours.waitForFunction('globalThis.edgeseekBench !== undefined');
      const loaded = await ours.evaluate((t: string) => (globalThis as any).edgeseekBench.load(`/models/${t}/`), type) as { kernels: string; activations: string };
      const edgeseek = () => ours.evaluate((p: number, g: number) => (globalThis as any).edgeseekBench.run(p, g), P, G) as Promise<Timing>;
      await edgeseek(); // warm-up: tier-up and first touch
      let promptN = 0;
      const wllama = async (): Promise<Timing> => {
        const t = await theirs.evaluate(async (prompt: string, g: number) => {
          const r = await (globalThis as any).wllama.createCompletion({ prompt, max_tokens: g, temperature: 0, ignore_eos: true, cache_prompt: false });
          return r.timings;
        }, text, G) as { prompt_per_second: number; predicted_per_second: number; prompt_n: number; predicted_n: number };
        if (t.prompt_n < P / 2 || t.predicted_n < G - 1) throw new Error(`wllama timed ${t.prompt_n} prompt and ${t.predicted_n} generated tokens`);
        promptN = t.prompt_n;
        return { prefill: t.prompt_per_second, decode: t.predicted_per_second };
      };
      await wllama();
      const a: Timing[] = [];
      const b: Timing[] = [];
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) { a.push(await edgeseek()); b.push(await wllama()); } else { b.push(await wllama()); a.push(await edgeseek()); }
      }
      const e = { prefill: median(a.map((t) => t.prefill)), decode: median(a.map((t) => t.decode)) };
      const l = { prefill: median(b.map((t) => t.prefill)), decode: median(b.map((t) => t.decode)) };
      const row = `| ${type} | 1 (${loaded.kernels} SIMD, ${loaded.activations}) | ${threads} | ${e.prefill.toFixed(1)} | ${l.prefill.toFixed(1)} (${promptN} tokens) | ${(e.prefill / l.prefill).toFixed(2)} | ${e.decode.toFixed(1)} | ${l.decode.toFixed(1)} | ${(e.decode / l.decode).toFixed(2)} |`;
      rows.push(row);
      console.error(row);
      await theirs.evaluate(() => (globalThis as any).wllama.exit());
      await theirs.close();
      await ours.evaluate(() => (globalThis as any).edgeseekBench.dispose());
      await ours.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`edgeseek vs wllama ${JSON.parse(readFileSync(join(peers, '@wllama/wllama/package.json'), 'utf8')).version} in ${version} (headless), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; prompt ${P}, generated ${G}, median of ${rounds} alternating rounds`);
console.log('| weights | edgeseek threads | wllama threads | edgeseek prefill tok/s | wllama prefill tok/s | prefill ratio | edgeseek decode tok/s | wllama decode tok/s | decode ratio |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
