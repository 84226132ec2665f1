// The embeddable module: a Worker that imports { createEngine, createApp }
// from 'edgeseek' (the package's own exports, resolved as an installed
// dependency would be) and mounts the app under its own routes.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TINY_MODEL, TINY_MODEL_ID } from './support/servers.ts';

describe('embedding: import { createEngine, createApp } from \'edgeseek\' in another Worker', () => {
  let worker: { url: Promise<URL>; dispose(): Promise<void> };
  let url: string;
  beforeAll(async () => {
    process.env.WRANGLER_SEND_METRICS = 'false';
    const { unstable_startWorker } = await import('wrangler');
    worker = await unstable_startWorker({
      name: 'embedder',
      entrypoint: `${ROOT}/test/server/fixtures/embed-worker.ts`,
      compatibilityDate: '2026-03-01',
      compatibilityFlags: ['nodejs_compat'],
      assets: TINY_MODEL,
      build: { nodejsCompatMode: 'v2' },
      dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, logLevel: 'warn', persist: false },
    });
    url = (await worker.url).toString().replace(/\/$/, '');
  });
  afterAll(async () => { await worker?.dispose(); });

  it('serves its own routes and the mounted OpenAI API', async () => {
    expect(await (await fetch(`${url}/`)).text()).toBe('my own worker');
    const client = new OpenAI({ baseURL: `${url}/llm/v1`, apiKey: 'unused', maxRetries: 0 });
    const out = await client.chat.completions.create({ model: TINY_MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, temperature: 0 });
    expect(out.usage!.completion_tokens).toBeGreaterThan(0);
  });
});
