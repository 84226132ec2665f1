// Serving many users at once (issue 12): `edgeseek serve` in its own process,
// N concurrent streamed /v1/completions through HTTP, against llama.cpp
// (node-llama-cpp 3.21.1, bench/peers) batching the same GGUF over N sequences
// of one context with the same threads, the two interleaved N by N. Both get
// the same prompt token ids (a different first token per stream, so no
// prompt prefix is shared) and decode greedily. Figures per N: aggregate
// decode tok/s while all N streams decode, time to first token and time per
// output token p50/p95. Then, on edgeseek alone: a shared 1,000-token system
// prompt (second request's TTFT ÷ first's), a 2,000-token prompt admitted
// while streams decode (their inter-token p95 ÷ median), and how many
// requests with max_tokens at the server's cap run at once before one waits
// or gets 429.
// Run: npx tsx bench/serving.ts [--models bench,default] [--streams 1,2,4,8,16] [--tokens 64] [--threads 1]
//      [--scenarios throughput,prefix,long-prompt,capacity] [--serve-args "--activations int16"]
// Needs `npm run build` (it runs bin/edgeseek.js), `cd bench/peers && npm ci`, and
// python3 with numpy (models/default is written as a Q8_0 GGUF for llama.cpp by tools/fixtures/gguf_writer.py).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getJson, stream, type StreamTimes } from './serving/client.ts';
import { percentile, streamStats, type StreamStats } from './serving/stats.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const root = fileURLToPath(new URL('..', import.meta.url));
const streamCounts = (args.get('streams') ?? '1,2,4,8,16').split(',').map(Number);
const tokens = Number(args.get('tokens') ?? 64);
const threads = Number(args.get('threads') ?? 1);
const scenarios = new Set((args.get('scenarios') ?? 'throughput,prefix,long-prompt,capacity').split(','));
const serveArgs = (args.get('serve-args') ?? '').split(' ').filter(Boolean);
const TEXT = 'The history of the city begins with a small settlement on the river, where traders met to exchange salt, grain and stories of distant places.';

interface Model { label: string; gguf: string; longContext: boolean }

function models(): Model[] {
  const out: Model[] = [];
  for (const name of (args.get('models') ?? 'bench,default').split(',')) {
    if (name === 'bench') {
      const gguf = join(root, 'fixtures-large/deepseek-v2-lite-3l-q8_0.gguf');
      if (existsSync(gguf)) out.push({ label: 'V2-Lite-dims 3-layer Q8_0', gguf, longContext: true });
      else console.error(`skipping the benchmark model: ${gguf} not generated (python3 tools/fixtures/make_bench_model.py --type q8_0)`);
    } else if (name === 'default') {
      const gguf = join(mkdtempSync(join(tmpdir(), 'edgeseek-serving-')), 'default-q8_0.gguf');
      execFileSync('python3', [join(root, 'tools/fixtures/gguf_writer.py'), join(root, 'models/default'), gguf, 'q8_0'], { stdio: 'ignore' });
      out.push({ label: 'models/default as Q8_0 GGUF', gguf, longContext: false });
    }
  }
  return out;
}

/** Lines of a child's stream, one at a time. */
function lines(child: ChildProcess, from: 'stdout' | 'stderr'): () => Promise<string> {
  const queue: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffer = '';
  child[from]!.on('data', (d: Buffer) => {
    buffer += d.toString();
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line); else queue.push(line);
    }
  });
  return () => new Promise((resolve) => { const line = queue.shift(); if (line !== undefined) resolve(line); else waiters.push(resolve); });
}

async function startEdgeseek(gguf: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(root, 'bin/edgeseek.js'), 'serve', '--model', gguf, '--port', '0', '--threads', String(threads), '--model-id', 'bench', ...serveArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.once('exit', (code) => { if (code) console.error(`edgeseek serve exited with ${code}`); });
  const next = lines(child, 'stderr');
  for (;;) {
    const line = await next();
    const match = /on http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(line);
    if (match) {
      // Whatever the server says afterwards (errors) goes to this process's stderr.
      void (async () => { for (;;) console.error(`[edgeseek serve] ${await next()}`); })();
      return { port: Number(match[1]), child };
    }
    if (/^edgeseek serve:/.test(line)) throw new Error(line);
  }
}

interface LlamaPeer { run(prompts: number[][], tokens: number): Promise<StreamTimes[]>; child: ChildProcess }

async function startLlama(gguf: string, perSequence: number): Promise<LlamaPeer> {
  const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'bench/peers/llama-batch.ts'), gguf, String(threads), '16', String(perSequence)],
    { cwd: join(root, 'bench/peers'), stdio: ['pipe', 'pipe', 'ignore'] });
  const next = lines(child, 'stdout');
  const nextJson = async () => { for (;;) { const line = await next(); if (line.startsWith('{')) return JSON.parse(line); } };
  await nextJson();
  return {
    child,
    async run(prompts, count) {
      child.stdin!.write(`${JSON.stringify({ prompts, tokens: count })}\n`);
      const { streams } = await nextJson() as { streams: { sentAt: number; arrivals: number[] }[] };
      return streams.map((s) => ({ ...s, tokens: s.arrivals.length, status: 200 }));
    },
  };
}

function tokenize(gguf: string, text: string): number[] {
  return JSON.parse(execFileSync(process.execPath, [join(root, 'bin/edgeseek.js'), 'tokenize', '--tokenizer', gguf, '--text', text], { encoding: 'utf8' }));
}

/** N prompts that differ from their first token on (no shared prefix). */
function prompts(base: number[], n: number, vocabStart = 1000): number[][] {
  return Array.from({ length: n }, (_, i) => [vocabStart + (i % 1000), vocabStart + Math.floor(i / 1000), ...base]);
}

async function edgeseekStreams(port: number, list: number[][], count: number): Promise<StreamTimes[]> {
  return Promise.all(list.map((prompt) => stream(port, '/v1/completions', { model: 'bench', prompt, max_tokens: count, temperature: 0 })));
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

async function throughput(model: Model, port: number, llama: LlamaPeer, base: number[]): Promise<string[]> {
  const rows: string[] = [];
  // Warm-up: both engines once (pipelines, caches, page faults).
  await edgeseekStreams(port, prompts(base, 1, 900), 4);
  await llama.run(prompts(base, 1, 900), 4);
  let single = NaN;
  for (const n of streamCounts) {
    const list = prompts(base, n);
    const e = streamStats(await edgeseekStreams(port, list, tokens));
    const l = streamStats(await llama.run(list, tokens));
    if (n === 1) single = e.aggregateTokS;
    const ms = (s: StreamStats) => `${fmt(s.ttftP50, 0)} / ${fmt(s.ttftP95, 0)} | ${fmt(s.tpotP50)} / ${fmt(s.tpotP95)}`;
    rows.push(`| ${model.label} | ${n} | ${fmt(e.aggregateTokS)} | ${fmt(e.aggregateTokS / single, 2)} | ${ms(e)} | ${fmt(l.aggregateTokS)} | ${ms(l)} | ${fmt(e.aggregateTokS / l.aggregateTokS, 2)} |`);
    console.error(rows[rows.length - 1]);
  }
  return rows;
}

/** One scenario's outcome, a row of the second table. */
interface Scenario { model: string; name: string; measured: string; ratio: number; target: string; met: boolean }

async function sharedPrefix(model: Model, port: number): Promise<Scenario> {
  const system = tokenize(model.gguf, Array.from({ length: 40 }, (_, i) => `Rule ${i + 1}: ${TEXT}`).join(' ')).slice(0, 1000);
  const ask = async (question: string) => {
    const times = await stream(port, '/v1/completions', { model: 'bench', prompt: [...system, ...tokenize(model.gguf, question)], max_tokens: 2, temperature: 0 });
    return { ttft: times.arrivals[0] - times.sentAt, cached: times.cachedTokens ?? 0 };
  };
  const first = await ask(' Question: where did the traders meet?');
  const second = await ask(' Question: what did they exchange?');
  const ratio = second.ttft / first.ttft;
  return {
    model: model.label, name: 'a 1,000-token shared system prompt: second request TTFT ÷ first',
    measured: `${fmt(first.ttft, 0)} ms then ${fmt(second.ttft, 0)} ms (${second.cached} tokens cached)`, ratio, target: '≤ 0.2', met: ratio <= 0.2,
  };
}

async function longPrompt(model: Model, port: number, base: number[]): Promise<Scenario> {
  const running = 8;
  const long = tokenize(model.gguf, Array.from({ length: 80 }, (_, i) => `Chapter ${i + 1}. ${TEXT}`).join(' ')).slice(0, 2000);
  const started = new Set<number>();
  let longDone = false;
  let allStarted!: () => void;
  const streaming = new Promise<void>((resolve) => { allStarted = resolve; });
  // Long enough to outlast the long prompt's prefill.
  const streams = prompts(base, running).map((prompt, i) => stream(port, '/v1/completions', { model: 'bench', prompt, max_tokens: 1000, temperature: 0 }, (count) => {
    if (count === 16) { started.add(i); if (started.size === running) allStarted(); }
    return longDone && count > 0;
  }));
  await streaming;
  const admittedAt = performance.now();
  const longTimes = await stream(port, '/v1/completions', { model: 'bench', prompt: long, max_tokens: 2, temperature: 0 });
  const longFirst = longTimes.arrivals[0];
  longDone = true;
  const times = await Promise.all(streams);
  const gaps = (from: number, to: number) => times.flatMap((s) => s.arrivals.slice(1).map((t, i) => [s.arrivals[i], t - s.arrivals[i]]).filter(([t]) => t >= from && t < to).map(([, g]) => g));
  const before = gaps(-Infinity, admittedAt);
  const during = gaps(admittedAt, longFirst);
  const median = percentile(before, 50);
  const p95 = percentile(during, 95);
  return {
    model: model.label, name: `a 2,000-token prompt admitted while ${running} streams decode: their inter-token p95 during its prefill ÷ median before`,
    measured: `before: median ${fmt(median, 0)} ms, p95 ${fmt(percentile(before, 95), 0)} ms; during: median ${fmt(percentile(during, 50), 0)} ms, p95 ${fmt(p95, 0)} ms over ${during.length} gaps (its prefill took ${fmt((longFirst - admittedAt) / 1000, 1)} s)`,
    ratio: p95 / median, target: '≤ 2', met: p95 / median <= 2,
  };
}

/**
 * How many requests that do not say how long they will be run at once. A
 * chat request without max_tokens gets the server's cap (4,096, within the
 * context); the GGUF files carry no chat template, so each request here is a
 * completion asking for exactly that cap — the same request to the engine —
 * and its client closes it after `tokens` tokens.
 */
async function capacity(model: Model, port: number, base: number[]): Promise<Scenario> {
  const health = await getJson(port, '/health');
  const budget = Number(health.cache_budget_bytes);
  const kvBytesPerToken = Number(health.kv_bytes_per_token);
  const context = Number(health.context_length);
  const promptTokens = prompts(base, 1)[0].length;
  const maxTokens = Math.min(4096, context - promptTokens);
  // Before issue 12 every request reserved prompt + max_tokens − 1 positions up front.
  const before = Math.floor(budget / ((promptTokens + maxTokens - 1) * kvBytesPerToken));
  const wanted = 4 * before;
  let firstWait: number | null = null;
  let peak = 0;
  let polls = 0;
  const watch = setInterval(() => {
    void getJson(port, '/health').then((h) => {
      polls++;
      peak = Math.max(peak, Number(h.running));
      if (firstWait === null && Number(h.waiting) > 0) firstWait = Number(h.running);
    });
  }, 100);
  // Connections open in waves of 100 (a listen backlog is 511); a connection the kernel resets before
  // any answer never reached the engine and is tried again. All are in flight together either way.
  const all = await Promise.all(prompts(base, wanted).map(async (prompt, i) => {
    await new Promise((resolve) => setTimeout(resolve, Math.floor(i / 100) * 100));
    for (let attempt = 0; ; attempt++) {
      try {
        return await stream(port, '/v1/completions', { model: 'bench', prompt, max_tokens: maxTokens, temperature: 0 }, (count) => count >= tokens);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ECONNRESET' || attempt === 3) throw error;
      }
    }
  }));
  clearInterval(watch);
  const rejected = all.filter((s) => s.status === 429).length;
  const failed = all.filter((s) => s.status !== 200 && s.status !== 429);
  if (failed.length) throw new Error(`capacity: ${failed.length} requests answered ${failed[0].status}`);
  if (polls < 3) throw new Error(`capacity: only ${polls} /health answers while the requests ran`);
  const atOnce = firstWait ?? (rejected > 0 ? peak : wanted);
  return {
    model: model.label, name: `requests of ${promptTokens} prompt tokens with max_tokens at the server's cap (${maxTokens}), closed after ${tokens} tokens, served at once before the first wait or 429, ÷ before`,
    measured: `${atOnce} of ${wanted} sent at once (peak ${peak} running in ${polls} /health polls, ${rejected} got 429); before: ${before} fit the default budget`,
    ratio: atOnce / before, target: '≥ 4', met: atOnce >= 4 * before,
  };
}

const throughputRows: string[] = [];
const scenarioRows: Scenario[] = [];
for (const model of models()) {
  const base = tokenize(model.gguf, TEXT);
  const edgeseek = await startEdgeseek(model.gguf);
  let llama: LlamaPeer | undefined;
  try {
    if (scenarios.has('throughput')) {
      llama = await startLlama(model.gguf, base.length + tokens + 64);
      throughputRows.push(...await throughput(model, edgeseek.port, llama, base));
      llama.child.kill();
    }
    if (model.longContext && scenarios.has('prefix')) scenarioRows.push(await sharedPrefix(model, edgeseek.port));
    if (model.longContext && scenarios.has('long-prompt')) scenarioRows.push(await longPrompt(model, edgeseek.port, base));
    // models/default's 512-token context caps max_tokens at ~460, and 4× its 410 requests are 1,640 connections: past what one 2-core machine's accept queue takes.
    if (model.longContext && scenarios.has('capacity')) scenarioRows.push(await capacity(model, edgeseek.port, base));
  } finally {
    llama?.child.kill();
    edgeseek.child.kill();
  }
}
console.log(`machine: ${cpus().length}× ${cpus()[0]?.model}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${threads} thread(s), ${tokens} tokens per stream${serveArgs.length ? `, edgeseek serve ${serveArgs.join(' ')}` : ''}`);
if (throughputRows.length) {
  console.log('\n| model | streams | edgeseek aggregate tok/s | ÷ edgeseek 1 stream | TTFT p50 / p95 ms | TPOT p50 / p95 ms | llama.cpp aggregate tok/s | TTFT p50 / p95 ms | TPOT p50 / p95 ms | edgeseek ÷ llama.cpp |');
  console.log('|---|---:|---:|---:|---|---|---:|---|---|---:|');
  for (const row of throughputRows) console.log(row);
}
if (scenarioRows.length) {
  console.log('\n| model | scenario | measured | ratio | target | met |');
  console.log('|---|---|---|---:|---|---|');
  for (const r of scenarioRows) console.log(`| ${r.model} | ${r.name} | ${r.measured} | ${fmt(r.ratio, 2)} | ${r.target} | ${r.met ? 'yes' : 'no'} |`);
}
