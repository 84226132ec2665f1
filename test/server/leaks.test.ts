// Serving never leaks cache: whatever way a request ends — its client gone
// during prefill, its first token an end-of-sentence, a wait in the admission
// queue — the latent cache it held returns, /health reads 0 with nothing
// queued, and the next request is served. On Node, under workerd (Miniflare)
// and on Deno.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startDenoServer, startNodeServer, startWorkerServer, TINY_MODEL_ID, type TestServer } from './support/servers.ts';

/** How long a condition that holds within a few tokens may take on a loaded 2-core machine before the test gives up. */
const WAIT_MS = 60_000;
/** tiny-a's end-of-sentence token. */
const EOS = 999;
/** 495 tokens with BOS, of tiny-a's 512-token context (+ 16 to generate): prefill is most of such a request's work. */
const LONG_PROMPT = 'the cat sat on the mat and looked around. '.repeat(29);

const headers = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' };

async function waitFor(check: () => Promise<boolean>, ms = WAIT_MS): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}

/** Writes a whole streaming request on a raw socket and closes it `afterMs` later, before any answer is read. */
function postAndDrop(url: string, body: object, afterMs: number): Promise<void> {
  const { hostname, port } = new URL(url);
  const json = JSON.stringify(body);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /v1/completions HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: ${headers.Authorization}\r\n`
        + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
      setTimeout(() => { socket.destroy(); resolve(); }, afterMs);
    });
    socket.on('error', () => resolve());
  });
}

/**
 * /health, retried: right after a storm of dropped connections, wrangler's dev proxy
 * can lose a request that arrives while it tears those down (seen under Miniflare,
 * never on Node or Deno), so each attempt is abandoned after a while and sent again.
 */
async function health(url: string): Promise<{ cache_bytes_in_use: number; queued: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(15_000) })).json();
    } catch (error) {
      if (attempt >= 8) throw error;
    }
  }
}

/** After a storm: the cache returns to 0 with nothing queued, and a normal request is served. */
async function expectRecovered(server: TestServer): Promise<void> {
  expect(await waitFor(async () => {
    const h = await health(server.url);
    return h.cache_bytes_in_use === 0 && h.queued === 0;
  }), `cache and queue empty again (last /health: ${JSON.stringify(await health(server.url))})`).toBe(true);
  const ok = await fetch(`${server.url}/v1/completions`, {
    method: 'POST', headers, body: JSON.stringify({ model: TINY_MODEL_ID, prompt: 'Once upon a time', max_tokens: 4, temperature: 0 }),
  });
  expect(ok.status).toBe(200);
  expect((await ok.json()).usage.completion_tokens).toBe(4);
  expect(await server.cacheBytesInUse()).toBe(0);
}

const targets = [
  ['node', () => startNodeServer()],
  // A short stall timeout: wrangler's dev proxy does not always pass a dropped connection on (README "Serving").
  ['worker (workerd)', () => startWorkerServer({ STREAM_STALL_TIMEOUT_MS: '1000' })],
  ['deno', () => startDenoServer()],
] as const;

describe.each(targets)('%s: no request leaves cache behind', (_kind, start) => {
  let server: TestServer;
  beforeAll(async () => { server = await start(); });
  afterAll(async () => { await server?.close(); });

  it('100 streamed requests whose clients leave during prefill', async () => {
    const request = { model: TINY_MODEL_ID, prompt: LONG_PROMPT, max_tokens: 16, temperature: 0, stream: true };
    // The request itself is valid (a rejected one would leave nothing to leak).
    const whole = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers, body: JSON.stringify({ ...request, stream: false }) });
    expect(whole.status).toBe(200);
    expect((await whole.json()).usage.prompt_tokens).toBe(495);
    for (let wave = 0; wave < 10; wave++) {
      await Promise.all(Array.from({ length: 10 }, () => postAndDrop(server.url, request, 5)));
    }
    await expectRecovered(server);
  });

  it('streamed and whole requests whose first token is end-of-sentence', async () => {
    for (const stream of [true, false, true, false]) {
      const response = await fetch(`${server.url}/v1/completions`, {
        method: 'POST', headers,
        body: JSON.stringify({ model: TINY_MODEL_ID, prompt: 'hi', max_tokens: 8, logit_bias: { [EOS]: 100 }, stream }),
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      if (stream) {
        expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
        expect(text).toContain('"finish_reason":"stop"');
      } else {
        expect(JSON.parse(text).usage.completion_tokens).toBe(1);
      }
    }
    await expectRecovered(server);
  });
});

describe('worker (workerd): requests that wait in the admission queue', () => {
  let server: TestServer;
  // Room for one request of ~600 positions (tiny-a: 3 layers × 40 values × 4 bytes per position); four may wait.
  beforeAll(async () => { server = await startWorkerServer({ CACHE_BUDGET_BYTES: String(600 * 3 * 40 * 4), MAX_QUEUE: '8' }); });
  afterAll(async () => { await server?.close(); });

  it('3 to 8 concurrent requests that must queue all complete with 200, and nothing stays reserved', async () => {
    for (const n of [3, 8]) {
      const responses = await Promise.all(Array.from({ length: n }, async (_, i) => {
        await new Promise((r) => setTimeout(r, 50 * i));
        const response = await fetch(`${server.url}/v1/completions`, {
          method: 'POST', headers, body: JSON.stringify({ model: TINY_MODEL_ID, prompt: `Story ${i}:`, max_tokens: 300, temperature: 0, stream: i % 2 === 0 }),
        });
        return { status: response.status, text: await response.text() };
      }));
      expect(responses.map((r) => r.status), responses.map((r) => r.text.slice(0, 200)).join('\n')).toEqual(Array(n).fill(200));
      await expectRecovered(server);
    }
  });
});
