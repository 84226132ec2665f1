// The real Worker under Miniflare (workerd) imports both SIMD builds of the
// kernels (src/wasm.ts) and runs the relaxed one, whose self-test passes in
// workerd; SIMD=plain forces the fallback a runtime without (working) relaxed
// SIMD gets. Both report their build in /health and generate the same greedy text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startWorkerServer, TINY_MODEL_ID, type TestServer } from './support/servers.ts';

async function health(server: TestServer): Promise<{ cpu_kernels: string; activations: string }> {
  return (await fetch(`${server.url}/health`)).json() as Promise<{ cpu_kernels: string; activations: string }>;
}

async function greedy(server: TestServer): Promise<string> {
  const response = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ model: TINY_MODEL_ID, prompt: 'The history of', max_tokens: 12, temperature: 0 }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { choices: { text: string }[] }).choices[0].text;
}

describe('the Worker picks its kernel build at start', () => {
  let relaxed: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    relaxed = await startWorkerServer();
    plain = await startWorkerServer({ SIMD: 'plain' });
  });
  afterAll(async () => { await relaxed?.close(); await plain?.close(); });

  it('runs the relaxed-SIMD build by default, the plain one when SIMD=plain, with the same greedy text', async () => {
    const text = await greedy(relaxed);
    expect((await health(relaxed)).cpu_kernels).toBe('relaxed');
    expect(await greedy(plain)).toBe(text);
    expect((await health(plain)).cpu_kernels).toBe('plain');
    expect((await health(relaxed)).activations).toBe('f32'); // tiny-a's weights are F32: no integer kernel applies
  });
});

describe('a Worker with a bad SIMD setting', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startWorkerServer({ SIMD: 'fast' }); });
  afterAll(async () => { await server?.close(); });

  it('answers with an error naming the setting', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("simd must be one of auto, relaxed, plain, got 'fast'");
  });
});
