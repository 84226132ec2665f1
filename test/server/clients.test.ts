// Real clients against the real server: the official `openai` package
// (streaming and not) and the Vercel AI SDK's streamText through
// @ai-sdk/openai-compatible — the same suite on the Node server and on the
// Worker bundle under Miniflare.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startNodeServer, startWorkerServer, TINY_MODEL_ID, type TestServer } from './support/servers.ts';
import { readSse } from './support/sse.ts';

const targets = [['node', () => startNodeServer()], ['worker', () => startWorkerServer()]] as const;

describe.each(targets)('%s server', (_kind, start) => {
  let server: TestServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await start();
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
  });
  afterAll(async () => { await server?.close(); });

  const chat = { model: TINY_MODEL_ID, messages: [{ role: 'user' as const, content: 'Tell me a story about a dragon.' }], max_tokens: 24, temperature: 0 };

  it('GET /health and /v1/models', async () => {
    const health = await (await fetch(`${server.url}/health`)).json();
    // The kernel build and activation mode in use (tiny-a's F32 weights run the exact path).
    expect(health).toMatchObject({ status: 'ok', model: TINY_MODEL_ID, backend: 'cpu', activations: 'f32', cpu_kernels: 'relaxed' });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([TINY_MODEL_ID]);
  });

  it('openai chat.completions, non-streaming: message, finish_reason, usage', async () => {
    const out = await client.chat.completions.create(chat);
    expect(out.object).toBe('chat.completion');
    expect(out.model).toBe(TINY_MODEL_ID);
    expect(out.choices).toHaveLength(1);
    expect(out.choices[0].message.role).toBe('assistant');
    expect(typeof out.choices[0].message.content).toBe('string');
    expect(['stop', 'length']).toContain(out.choices[0].finish_reason);
    expect(out.usage!.prompt_tokens).toBeGreaterThan(5);
    expect(out.usage!.total_tokens).toBe(out.usage!.prompt_tokens + out.usage!.completion_tokens);
  });

  it('openai chat.completions, streaming: same text as non-streaming (greedy), role first, usage chunk last', async () => {
    const whole = await client.chat.completions.create(chat);
    const stream = await client.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    for (const c of chunks) { expect(c.object).toBe('chat.completion.chunk'); expect(c.id).toBe(chunks[0].id); }
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.choices[0].message.content);
    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finishes).toHaveLength(1);
    expect(finishes[0].choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(whole.usage);
  });

  it('the SSE wire format is OpenAI\'s: data: {json} frames, then data: [DONE]', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...chat, max_tokens: 4, stream: true }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { frames, raw } = await readSse(response);
    expect(raw.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(frames.at(-1)).toBe('[DONE]');
    const first = JSON.parse(frames[0]);
    expect(Object.keys(first).sort()).toEqual(['choices', 'created', 'id', 'model', 'object', 'system_fingerprint']);
    expect(first.choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null });
    expect(typeof first.created).toBe('number');
  });

  it('openai completions, streaming and not, agree; logprobs are reported', async () => {
    const body = { model: TINY_MODEL_ID, prompt: 'The quick brown fox', max_tokens: 16, temperature: 0 };
    const whole = await client.completions.create({ ...body, logprobs: 2 });
    expect(whole.object).toBe('text_completion');
    const lp = whole.choices[0].logprobs!;
    expect(lp.token_logprobs!.length).toBe(whole.usage!.completion_tokens - (whole.choices[0].finish_reason === 'stop' ? 1 : 0));
    for (const p of lp.token_logprobs!) expect(p).toBeLessThanOrEqual(0);
    const stream = await client.completions.create({ ...body, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(whole.choices[0].text);
  });

  it('openai chat logprobs: the chosen token is the most likely at temperature 0', async () => {
    const out = await client.chat.completions.create({ ...chat, max_tokens: 6, logprobs: true, top_logprobs: 3 });
    const content = out.choices[0].logprobs!.content!;
    expect(content.length).toBeGreaterThan(0);
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(3);
      expect(entry.logprob).toBeCloseTo(entry.top_logprobs[0].logprob, 5);
      expect(entry.bytes!.length).toBeGreaterThan(0);
    }
  });

  it('Vercel AI SDK streamText through @ai-sdk/openai-compatible', async () => {
    const provider = createOpenAICompatible({ name: 'edgeseek', baseURL: `${server.url}/v1`, apiKey: API_KEY, includeUsage: true });
    const whole = await client.chat.completions.create(chat);
    const result = streamText({ model: provider.chatModel(TINY_MODEL_ID), messages: chat.messages, maxOutputTokens: chat.max_tokens, temperature: 0, maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(whole.choices[0].message.content);
    const usage = await result.usage;
    expect(usage.inputTokens).toBe(whole.usage!.prompt_tokens);
    expect(usage.outputTokens).toBe(whole.usage!.completion_tokens);
    expect(['stop', 'length']).toContain(await result.finishReason);
  });
});
