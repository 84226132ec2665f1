// Serving overhead: decode tok/s and time to first token through HTTP SSE
// (the Node server — @hono/node-server + createApp — in its own process, a
// node:http client parsing the stream in this one) against the same engine
// called directly inside the server process, on the same model, greedy, same
// prompt, runs alternating so drift hits both sides alike. Targets:
// HTTP ÷ direct decode tok/s ≥ 0.95, TTFT overhead < 5 ms (medians).
// Run: npx tsx bench/server.ts [--model DIR] [--tokens 128] [--runs 7]
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/engine/engine.ts';
import type { Engine } from '../src/engine/types.ts';
import { DEFAULT_MODEL_DIR } from '../src/entries/default-model.ts';
import { createApp } from '../src/server/app.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const model = args.get('model') ?? (existsSync(`${DEFAULT_MODEL_DIR}/config.json`) ? DEFAULT_MODEL_DIR : 'test/fixtures/golden/tiny-a');
const maxTokens = Number(args.get('tokens') ?? 128);
const runs = Number(args.get('runs') ?? 7);
const prompt = 'The history of the city begins with a small settlement on the river, where';

interface Run { ttftMs: number; decodeTokS: number; tokens: number }

/**
 * The engine called directly, timed as the HTTP client times the stream: to
 * the first token with text, then tokens with text per second.
 */
async function direct(engine: Engine): Promise<Run> {
  const start = performance.now();
  let first = 0, last = 0, texts = 0, tokens = 0;
  for await (const event of engine.generate({ prompt, maxTokens, temperature: 0 })) {
    if (event.type !== 'token') { tokens = event.usage.completionTokens; continue; }
    if (!event.text) continue;
    last = performance.now();
    if (texts++ === 0) first = last;
  }
  return { ttftMs: first - start, decodeTokS: (texts - 1) / ((last - first) / 1000), tokens };
}

// The server process: the app as `edgeseek serve` runs it, plus a bench-only
// route that runs the direct measurement inside the same process.
async function runServer(): Promise<void> {
  const engine = await createEngine({ model, modelId: 'bench' });
  const app = createApp(engine, {});
  const bench = new Hono();
  bench.get('/bench/direct', async (c) => c.json(await direct(engine)));
  bench.route('/', app);
  serve({ fetch: bench.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.stdout.write(`PORT ${info.port}\n`));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function request(port: number, method: string, path: string, body: string | undefined, onData: (text: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
      res.setEncoding('utf8');
      res.on('data', onData);
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.setNoDelay(true);
    req.on('error', reject);
    req.end(body);
  });
}

/** Through HTTP SSE: time to the first text chunk, then text chunks per second (client in another process). */
async function viaHttp(port: number): Promise<Run> {
  const body = JSON.stringify({ model: 'bench', prompt, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let buffer = '', first = 0, last = 0, frames = 0, tokens = 0;
  const start = performance.now();
  await request(port, 'POST', '/v1/completions', body, (text) => {
    buffer += text;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer.slice(6, end);
      buffer = buffer.slice(end + 2);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      if (chunk.usage) { tokens = chunk.usage.completion_tokens; continue; }
      // Every token with text is its own chunk (a token that only starts a character sends none).
      if (chunk.choices[0]?.text) {
        last = performance.now();
        if (frames++ === 0) first = last;
      }
    }
  });
  return { ttftMs: first - start, decodeTokS: (frames - 1) / ((last - first) / 1000), tokens };
}

async function inServer(port: number): Promise<Run> {
  let text = '';
  await request(port, 'GET', '/bench/direct', undefined, (t) => { text += t; });
  return JSON.parse(text) as Run;
}

async function runClient(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve', '1', '--model', model, '--tokens', String(maxTokens)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { const m = /PORT (\d+)/.exec(d.toString()); if (m) resolve(Number(m[1])); });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  try {
    await inServer(port); await viaHttp(port); // warm-up
    const d: Run[] = [], h: Run[] = [];
    for (let i = 0; i < runs; i++) { d.push(await inServer(port)); h.push(await viaHttp(port)); }
    const tokens = d[0].tokens;
    if ([...d, ...h].some((r) => r.tokens !== tokens)) throw new Error('runs generated different token counts');
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const result = {
      model, tokens, runs,
      direct_decode_tok_s: median(d.map((r) => r.decodeTokS)),
      http_decode_tok_s: median(h.map((r) => r.decodeTokS)),
      direct_ttft_ms: median(d.map((r) => r.ttftMs)),
      http_ttft_ms: median(h.map((r) => r.ttftMs)),
    };
    const ratio = result.http_decode_tok_s / result.direct_decode_tok_s;
    const overhead = result.http_ttft_ms - result.direct_ttft_ms;
    console.log(`machine: ${cpus().length}× ${cpus()[0]?.model}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
    const perToken = 1e6 / result.http_decode_tok_s - 1e6 / result.direct_decode_tok_s;
    console.log('| model | tokens | direct decode tok/s | HTTP SSE decode tok/s | HTTP ÷ direct | HTTP cost per token µs | direct TTFT ms | HTTP TTFT ms | TTFT overhead ms |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    console.log(`| ${model} | ${tokens} | ${result.direct_decode_tok_s.toFixed(1)} | ${result.http_decode_tok_s.toFixed(1)} | ${ratio.toFixed(3)} | ${perToken.toFixed(0)} | ${result.direct_ttft_ms.toFixed(2)} | ${result.http_ttft_ms.toFixed(2)} | ${overhead.toFixed(2)} |`);
    console.log(JSON.stringify({ ...result, ratio, http_us_per_token: perToken, ttft_overhead_ms: overhead }));
  } finally {
    child.kill();
  }
}

if (args.has('serve')) await runServer();
else await runClient();
