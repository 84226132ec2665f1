// Streaming behaviour through HTTP on the real engine and model: a client that
// goes away frees its cache; concurrent seeded streams equal the same requests
// one at a time; stop strings split across tokens never leak; multi-byte
// characters split across tokens arrive whole.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, GenerateRequest } from '../../src/engine/types.ts';
import { API_KEY, startNodeServer, startWorkerServer, TINY_MODEL_ID, type TestServer } from './support/servers.ts';
import { sseFrames } from './support/sse.ts';

const headers = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' };

/** Reads `frames` SSE frames of a streaming request, then drops the connection. */
async function streamThenDisconnect(url: string, body: object, frames: number): Promise<string[]> {
  const abort = new AbortController();
  const response = await fetch(`${url}/v1/completions`, { method: 'POST', headers, body: JSON.stringify({ ...body, stream: true }), signal: abort.signal });
  expect(response.status).toBe(200);
  const seen: string[] = [];
  for await (const frame of sseFrames(response)) {
    seen.push(frame);
    if (seen.length >= frames) break;
  }
  abort.abort();
  return seen;
}

/** How long a condition that should hold within a few tokens may take on a loaded 2-core machine before the test gives up. */
const WAIT_MS = 30_000;

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return check();
}

describe('node server: streaming on the real engine', () => {
  let server: TestServer;
  let engine: Engine;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startNodeServer();
    engine = server.engine!;
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
  });
  afterAll(async () => { await server?.close(); });

  it('a client that disconnects mid-stream stops its generation and the cache budget returns to baseline', async () => {
    const baseline = engine.cacheBytesInUse;
    expect(baseline).toBe(0);
    let tokensAfterAbort = 0;
    const recordedBefore = server.generations!.length;
    const frames = await streamThenDisconnect(server.url, { model: TINY_MODEL_ID, prompt: 'Once upon a time', max_tokens: 400, temperature: 0 }, 3);
    expect(frames).toHaveLength(3);
    // The generation notices the closed connection within a token or so and frees its reservation
    // (the bound only matters when it never does: a loaded machine just takes longer).
    expect(await waitFor(async () => engine.cacheBytesInUse === baseline && server.generations!.length > recordedBefore, WAIT_MS)).toBe(true);
    const generation = server.generations!.at(-1)!;
    expect(['abort', 'cancelled']).toContain(generation.reason);
    expect(generation.tokens).toBeLessThan(400);
    // Nothing keeps running (the generation above has ended: it is recorded): a later request is served.
    const out = await client.completions.create({ model: TINY_MODEL_ID, prompt: 'x', max_tokens: 2, temperature: 0 });
    tokensAfterAbort = out.usage!.completion_tokens;
    expect(tokensAfterAbort).toBeGreaterThan(0);
    expect(engine.cacheBytesInUse).toBe(baseline);
    expect(engine.queued).toBe(0);
  });

  it('16 concurrent seeded streaming requests give the same texts as the same requests one at a time', async () => {
    const requests = Array.from({ length: 16 }, (_, i) => ({
      model: TINY_MODEL_ID,
      messages: [{ role: 'user' as const, content: `Request number ${i}: say something.` }],
      max_tokens: 12 + (i % 5) * 4,
      temperature: 0.9,
      top_p: 0.95,
      seed: 1000 + i,
    }));
    const run = async (r: (typeof requests)[number]) => {
      const stream = await client.chat.completions.create({ ...r, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    const sequential: string[] = [];
    for (const r of requests) sequential.push(await run(r));
    const concurrent = await Promise.all(requests.map(run));
    expect(concurrent).toEqual(sequential);
    expect(new Set(sequential).size).toBeGreaterThan(8); // the seeds really differ
    expect(engine.cacheBytesInUse).toBe(0);
  });

  it('a stop string split across tokens never leaks into the stream', async () => {
    const body = { model: TINY_MODEL_ID, prompt: 'The quick brown fox jumps over', max_tokens: 40, temperature: 0 };
    const whole = await client.completions.create({ ...body, logprobs: 0 });
    const tokens = whole.choices[0].logprobs!.tokens!;
    // A stop string made of the end of one token and the start of the next.
    let k = tokens.findIndex((t, i) => i > 2 && i + 1 < tokens.length && t.length >= 2 && tokens[i + 1].length >= 2 && !/\uFFFD/.test(t + tokens[i + 1]));
    expect(k, `no two adjacent multi-character tokens in ${JSON.stringify(tokens)}`).toBeGreaterThan(0);
    const stop = tokens[k].slice(-2) + tokens[k + 1].slice(0, 2);
    const text = whole.choices[0].text;
    const expected = text.slice(0, text.indexOf(stop));
    const stream = await client.completions.create({ ...body, stop: [stop], stream: true });
    const deltas: string[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      deltas.push(chunk.choices[0]?.text ?? '');
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(deltas.join('')).toBe(expected);
    expect(deltas.join('')).not.toContain(stop);
    for (const d of deltas) expect(d.includes(stop.slice(0, 2)) && d.endsWith(stop.slice(0, 2))).toBe(false);
    expect(finish).toBe('stop');
    k = 0;
  });

  it('multi-byte characters split across tokens arrive whole in the deltas', async () => {
    // Find (on the engine directly) a seeded sample where a character ≥ U+0080 spans tokens.
    let found: { request: GenerateRequest; deltas: string[] } | undefined;
    for (let seed = 0; seed < 300 && !found; seed++) {
      const request: GenerateRequest = { prompt: '中文 emoji 😀 test', maxTokens: 48, temperature: 1.5, seed };
      const deltas: string[] = [];
      let pending = false;
      let spans = false;
      for await (const e of engine.generate(request)) {
        if (e.type !== 'token') { deltas.push(e.text); continue; }
        deltas.push(e.text);
        if (e.text === '') pending = true;
        else { if (pending && /[^\x00-\x7f\uFFFD]/.test(e.text)) spans = true; pending = false; }
      }
      if (spans) found = { request, deltas };
    }
    expect(found, 'no seed in 0..299 produced a multi-byte character split across tokens').toBeDefined();
    const { request, deltas } = found!;
    const response = await fetch(`${server.url}/v1/completions`, {
      method: 'POST', headers,
      body: JSON.stringify({ model: TINY_MODEL_ID, prompt: request.prompt, max_tokens: request.maxTokens, temperature: request.temperature, seed: request.seed, stream: true }),
    });
    const streamed: string[] = [];
    for await (const frame of sseFrames(response)) {
      if (frame === '[DONE]') break;
      const text = JSON.parse(frame).choices[0]?.text;
      if (text) streamed.push(text);
    }
    // The same pieces as the engine's (empty ones are not sent), each made of whole characters.
    expect(streamed).toEqual(deltas.filter((d) => d !== ''));
    for (const piece of streamed) expect(piece).toBe(new TextDecoder().decode(new TextEncoder().encode(piece)));
    expect(streamed.join('')).toMatch(/[^\x00-\x7f\uFFFD]/);
  });
});

describe('worker under Miniflare: client disconnect and concurrency', () => {
  let server: TestServer;
  // wrangler's dev proxy passes a client's disconnect on to the Worker only some
  // of the time (about 2 runs in 3 here); when it does not, the stalled-stream
  // timeout (1 s in this test, 10 s by default) is what stops the generation.
  beforeAll(async () => { server = await startWorkerServer({ STREAM_STALL_TIMEOUT_MS: '1000' }); });
  afterAll(async () => { await server?.close(); });

  it('a client that disconnects mid-stream has its generation stopped and cache freed (asserted through /health)', async () => {
    expect(await server.cacheBytesInUse()).toBe(0);
    await streamThenDisconnect(server.url, { model: TINY_MODEL_ID, prompt: 'Once upon a time', max_tokens: 400, temperature: 0 }, 3);
    expect(await waitFor(async () => (await server.cacheBytesInUse()) === 0, WAIT_MS)).toBe(true);
  });

  it('concurrent seeded streams in one isolate equal sequential ones', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const requests = Array.from({ length: 4 }, (_, i) => ({ model: TINY_MODEL_ID, prompt: `Story ${i}:`, max_tokens: 16, temperature: 1, seed: i }));
    const run = async (r: (typeof requests)[number]) => {
      let text = '';
      for await (const chunk of await client.completions.create({ ...r, stream: true })) text += chunk.choices[0]?.text ?? '';
      return text;
    };
    const sequential: string[] = [];
    for (const r of requests) sequential.push(await run(r));
    expect(await Promise.all(requests.map(run))).toEqual(sequential);
  });
});
