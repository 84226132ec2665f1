// Deno smoke test: src/entries/deno.ts (Deno.serve) on the real tiny model,
// spoken to by the official openai client, streaming and not.
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
