// Every bad request gets the right status and an OpenAI-shaped error
// {error:{message,type,param,code}}, and the server keeps serving afterwards —
// on the Node server and on the Worker under Miniflare.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startNodeServer, startWorkerServer, TINY_MODEL_ID, type TestServer } from './support/servers.ts';

const targets = [['node', () => startNodeServer()], ['worker', () => startWorkerServer()]] as const;

interface Case {
  name: string;
  path?: string;
  body: unknown;
  headers?: Record<string, string>;
  status: number;
  type?: string;
  code?: string | null;
  param?: string | null;
}

const chat = { model: TINY_MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 };
const completion = { model: TINY_MODEL_ID, prompt: 'hi', max_tokens: 4 };
const longPrompt = 'the cat sat on the mat and looked around. '.repeat(200); // ≫ 512 tokens

const cases: Case[] = [
  { name: 'malformed JSON', body: '{"model": "tiny-a", "messages": [', status: 400, type: 'invalid_request_error', code: 'invalid_json' },
  { name: 'empty body', body: '', status: 400, code: 'invalid_json' },
  { name: 'messages of the wrong type', body: { ...chat, messages: 'hello' }, status: 400, param: 'messages' },
  { name: 'temperature of the wrong type', body: { ...chat, temperature: 'hot' }, status: 400, param: 'temperature' },
  { name: 'max_tokens of the wrong type', body: { ...chat, max_tokens: '5' }, status: 400, param: 'max_tokens' },
  { name: 'a message with an unknown role', body: { ...chat, messages: [{ role: 'wizard', content: 'x' }] }, status: 400, param: 'messages.0.role' },
  { name: 'missing messages', body: { model: TINY_MODEL_ID }, status: 400, param: 'messages' },
  { name: 'missing model', body: { messages: chat.messages }, status: 400, param: 'model' },
  { name: 'missing prompt (completions)', path: '/v1/completions', body: { model: TINY_MODEL_ID }, status: 400, param: 'prompt' },
  { name: 'empty messages', body: { ...chat, messages: [] }, status: 400, param: 'messages' },
  { name: 'unknown model', body: { ...chat, model: 'gpt-4o' }, status: 404, type: 'invalid_request_error', code: 'model_not_found', param: 'model' },
  { name: 'n > 1', body: { ...chat, n: 2 }, status: 400, param: 'n' },
  { name: 'max_tokens = 0', body: { ...chat, max_tokens: 0 }, status: 400, param: 'max_tokens' },
  { name: 'max_tokens < 0', path: '/v1/completions', body: { ...completion, max_tokens: -3 }, status: 400, param: 'max_tokens' },
  { name: 'max_tokens past the context', body: { ...chat, max_tokens: 600 }, status: 400, code: 'context_length_exceeded', param: 'max_tokens' },
  { name: 'max_tokens past the server limit', body: { ...chat, max_tokens: 100_000 }, status: 400, param: 'max_tokens' },
  { name: 'a prompt longer than the context', path: '/v1/completions', body: { ...completion, prompt: longPrompt }, status: 400, code: 'context_length_exceeded', param: 'prompt' },
  { name: 'chat longer than the context', body: { ...chat, messages: [{ role: 'user', content: longPrompt }] }, status: 400, code: 'context_length_exceeded', param: 'messages' },
  { name: 'a body over the size limit', body: { ...chat, padding: 'x'.repeat(2 * 1024 * 1024) }, status: 413, code: 'request_too_large' },
  { name: 'a wrong API key', body: chat, headers: { Authorization: 'Bearer sk-wrong' }, status: 401, code: 'invalid_api_key' },
  { name: 'a missing API key', body: chat, headers: { Authorization: '' }, status: 401, code: 'invalid_api_key' },
  { name: 'an unknown URL', path: '/v1/embeddings', body: {}, status: 404 },
  // Never a silent 200: a field the server does not know, or knows but does not implement, is named.
  { name: 'an unknown field', body: { ...chat, frobnicate: true }, status: 400, code: 'unknown_parameter', param: 'frobnicate' },
  { name: 'an unknown field in a message', body: { ...chat, messages: [{ role: 'user', content: 'hi', extra: 1 }] }, status: 400, code: 'unknown_parameter', param: 'messages.0.extra' },
  { name: 'response_format json_object', body: { ...chat, response_format: { type: 'json_object' } }, status: 400, param: 'response_format' },
  { name: 'response_format of an unknown type', body: { ...chat, response_format: { type: 'bogus' } }, status: 400, param: 'response_format.type' },
  { name: 'tools', body: { ...chat, tools: [{ type: 'function', function: { name: 'f' } }] }, status: 400, param: 'tools' },
  { name: 'tool_choice required', body: { ...chat, tool_choice: 'required' }, status: 400, param: 'tool_choice' },
  { name: 'best_of > 1 (completions)', path: '/v1/completions', body: { ...completion, best_of: 3 }, status: 400, param: 'best_of' },
  { name: 'stream_options without stream', body: { ...chat, stream_options: { include_usage: true } }, status: 400, param: 'stream_options' },
  { name: 'store: true', body: { ...chat, store: true }, status: 400, param: 'store' },
  { name: 'logit_bias with a key that is not a token id', body: { ...chat, logit_bias: { abc: 5 } }, status: 400, param: 'logit_bias' },
  { name: 'logit_bias with a token id outside the vocabulary', body: { ...chat, logit_bias: { 1000: 5 } }, status: 400, param: 'logit_bias' },
  { name: 'logit_bias with a bias past 100', body: { ...chat, logit_bias: { 337: 101 } }, status: 400, param: 'logit_bias.337' },
  // A form or text/plain POST (what any web page can send without a preflight) never reaches the model.
  { name: 'a text/plain body', body: chat, headers: { 'Content-Type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'a form body', body: 'model=tiny-a', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
];

describe.each(targets)('%s server: bad input', (_kind, start) => {
  let server: TestServer;
  beforeAll(async () => { server = await start(); });
  afterAll(async () => { await server?.close(); });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  it.each(cases)('$name → $status', async (c) => {
    const headers = { ...c.headers };
    if (headers.Authorization === '') delete headers.Authorization;
    const response = await (c.headers?.Authorization === ''
      ? fetch(`${server.url}${c.path ?? '/v1/chat/completions'}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(c.body) })
      : post(c.path ?? '/v1/chat/completions', c.body, headers));
    expect(response.status).toBe(c.status);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    const body = await response.json() as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(typeof body.error.message).toBe('string');
    expect((body.error.message as string).length).toBeGreaterThan(5);
    if (c.type) expect(body.error.type).toBe(c.type);
    else expect(body.error.type).toBe('invalid_request_error');
    if (c.code !== undefined) expect(body.error.code).toBe(c.code);
    if (c.param !== undefined) expect(body.error.param).toBe(c.param);
    expect(JSON.stringify(body)).not.toContain(API_KEY);
    // ... and the server still answers a good request.
    const ok = await post('/v1/chat/completions', chat);
    expect(ok.status).toBe(200);
    await ok.json();
  });

  it('OpenAI fields that ask for nothing are accepted', async () => {
    const response = await post('/v1/chat/completions', {
      ...chat, user: 'u1', response_format: { type: 'text' }, tool_choice: 'none', store: false, service_tier: 'auto', modalities: ['text'], logit_bias: {},
    });
    expect(response.status).toBe(200);
    expect((await response.json()).object).toBe('chat.completion');
  });

  it('the openai client sees typed errors (401, 404, 400)', async () => {
    const bad = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'nope', maxRetries: 0 });
    await expect(bad.chat.completions.create({ ...chat, messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const good = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    await expect(good.chat.completions.create({ ...chat, model: 'nope', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(good.chat.completions.create({ ...chat, max_tokens: 0, messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('CORS preflight is answered without an API key', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('busy: past the cache budget and the queue', () => {
  let server: TestServer;
  // The first request stays in flight (after its first token) until the test lets it go.
  let release!: () => void;
  const hold = new Promise<void>((resolve) => { release = resolve; });
  // 30 blocks of 16 positions (tiny-a: 3 layers × 40 values × 4 bytes per position): a 300-token
  // prompt takes 19 of them, so a second one finds no room; no queue.
  beforeAll(async () => { server = await startNodeServer({ cacheBudgetBytes: 30 * 16 * 3 * 40 * 4, maxQueue: 0, holdAfterFirstToken: hold }); });
  afterAll(async () => { release(); await server?.close(); });

  it('answers 429 with Retry-After and an OpenAI-shaped error, then serves again', async () => {
    // Prompts that differ from their first token: no cached prefix block is shared.
    const bodyOf = (first: number) => JSON.stringify({
      model: TINY_MODEL_ID, prompt: [first, ...Array.from({ length: 299 }, (_, i) => 10 + (i % 50))], max_tokens: 100, temperature: 0, stream: true,
    });
    const headers = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' };
    const first = fetch(`${server.url}/v1/completions`, { method: 'POST', headers, body: bodyOf(1) });
    while ((await server.cacheBytesInUse()) === 0) await new Promise((r) => setTimeout(r, 1));
    const second = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers, body: bodyOf(2) });
    release();
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const error = (await second.json()).error;
    expect(error.type).toBe('rate_limit_exceeded');
    expect(error.message).toMatch(/busy/);
    expect((await first).status).toBe(200);
    await (await first).text();
    const third = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers, body: bodyOf(3) });
    expect(third.status).toBe(200);
    await third.text();
    expect(await server.cacheBytesInUse()).toBe(0);
  });
});
