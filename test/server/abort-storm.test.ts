// A bounded storm of 32 streamed requests on one batching engine, each
// dropped by its client at a random point (before its first token, after a
// few, or not at all; some while queued behind a small cache): afterwards
// /health shows no cache held, nothing running and nothing queued, and a
// fresh greedy request returns the text it returned before the storm — on
// the Node server and on the real Worker under Miniflare.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../ops/reference.ts';
import { API_KEY, startNodeServer, startWorkerServer, TINY_MODEL_ID, type TestServer } from './support/servers.ts';
import { sseFrames } from './support/sse.ts';

const headers = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' };
/** A bound against hangs only: on a loaded machine the storm just takes longer. */
const WAIT_MS = 60_000;
/** Small enough that part of the storm waits for blocks: 40 blocks of 16 positions. */
const CACHE_BUDGET_BYTES = 40 * 16 * 3 * 40 * 4;

async function greedyText(url: string): Promise<string> {
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers, body: JSON.stringify({ model: TINY_MODEL_ID, prompt: 'After the storm', max_tokens: 24, temperature: 0 }),
  });
  expect(response.status).toBe(200);
  return (await response.json()).choices[0].text;
}

/** One storm request: dropped after `frames` frames (Infinity: read to the end), or before any answer when frames < 0. */
async function stormRequest(url: string, i: number, frames: number): Promise<number> {
  const abort = new AbortController();
  const body = JSON.stringify({
    model: TINY_MODEL_ID, prompt: `${i % 3 === 0 ? 'Shared opening words of the storm, repeated for every third request. ' : ''}Storm ${i}:`,
    max_tokens: 20 + (i % 5) * 10, temperature: i % 2 ? 0 : 0.8, seed: i, stream: true,
  });
  try {
    const pending = fetch(`${url}/v1/completions`, { method: 'POST', headers, body, signal: abort.signal });
    if (frames < 0) { abort.abort(); await pending.catch(() => undefined); return 0; }
    const response = await pending;
    if (response.status !== 200) { await response.text(); return response.status; }
    let seen = 0;
    for await (const _ of sseFrames(response)) if (++seen >= frames) break;
    abort.abort();
    return 200;
  } catch (error) {
    if ((error as Error).name === 'AbortError') return 0;
    throw error;
  }
}

async function health(url: string): Promise<{ cache_bytes_in_use: number; queued: number; running: number; waiting: number; cache_block_tokens: number }> {
  return (await fetch(`${url}/health`)).json();
}

for (const kind of ['node', 'worker'] as const) {
  describe(`abort storm (${kind} server)`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = kind === 'node'
        ? await startNodeServer({ cacheBudgetBytes: CACHE_BUDGET_BYTES, maxQueue: 64 })
        // The Worker's vars take the batching limits too: blocks of 8 (twice as many), 16 rows a step.
        : await startWorkerServer({ CACHE_BUDGET_BYTES: String(CACHE_BUDGET_BYTES), MAX_QUEUE: '64', BLOCK_SIZE: '8', STEP_TOKENS: '16' });
    }, 120_000);
    afterAll(async () => { await server?.close(); });

    it('32 requests dropped at random points leave no cache held and nothing queued; a fresh greedy request is unchanged', async () => {
      expect((await health(server.url)).cache_block_tokens).toBe(kind === 'node' ? 16 : 8);
      const before = await greedyText(server.url);
      const next = rng(kind === 'node' ? 12 : 13);
      const statuses = await Promise.all(Array.from({ length: 32 }, (_, i) => {
        const r = next();
        const frames = r < 0.15 ? -1 : r < 0.85 ? 1 + Math.floor(next() * 12) : Infinity;
        return stormRequest(server.url, i, frames);
      }));
      expect(statuses.every((s) => s === 200 || s === 0), `statuses ${statuses}`).toBe(true);
      const end = Date.now() + WAIT_MS;
      let last = await health(server.url);
      while (Date.now() < end && (last.cache_bytes_in_use !== 0 || last.queued !== 0 || last.running !== 0)) {
        await new Promise((r) => setTimeout(r, 20));
        last = await health(server.url);
      }
      expect({ cache: last.cache_bytes_in_use, queued: last.queued, running: last.running, waiting: last.waiting }).toEqual({ cache: 0, queued: 0, running: 0, waiting: 0 });
      expect(await greedyText(server.url)).toBe(before);
    }, 180_000);
  });
}
