// Deno smoke test: src/entries/deno.ts (Deno.serve) on the real tiny model,
// spoken to by the official openai client, streaming and not; the playground at /.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startDenoServer, TINY_MODEL_ID, type TestServer } from './support/servers.ts';

describe('deno server (Deno.serve)', () => {
  let server: TestServer;
  let url: string;
  beforeAll(async () => {
    server = await startDenoServer();
    url = server.url;
  });
  afterAll(async () => { await server?.close(); });

  it('serves the playground at /, cross-origin isolated, with the browser build and the model files behind the key', async () => {
    const page = await fetch(`${url}/`);
    expect(page.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
    expect(await page.text()).toContain('playground/app.js');
    expect((await fetch(`${url}/playground/edgeseek.js`)).headers.get('Content-Type')).toMatch(/^text\/javascript/);
    expect(await (await fetch(`${url}/playground/config.json`)).json()).toMatchObject({ model: TINY_MODEL_ID, modelUrl: 'playground/model/', inBrowser: true });
    expect((await fetch(`${url}/playground/model/config.json`)).status).toBe(401);
    const range = await fetch(`${url}/playground/model/model.safetensors`, { headers: { Authorization: `Bearer ${API_KEY}`, Range: 'bytes=0-7' } });
    expect(range.status).toBe(206);
    await range.arrayBuffer();
  });

  it('serves /health and chat completions, streaming and not, to the openai client', async () => {
    expect((await (await fetch(`${url}/health`)).json()).status).toBe('ok');
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const request = { model: TINY_MODEL_ID, messages: [{ role: 'user' as const, content: 'Hello from Deno' }], max_tokens: 12, temperature: 0 };
    const whole = await client.chat.completions.create(request);
    expect(whole.usage!.completion_tokens).toBeGreaterThan(0);
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(whole.choices[0].message.content);
    await expect(new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
