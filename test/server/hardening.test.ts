// What a hostile but fair review found accepted and ignored, or unsafe by
// default (issue 16), on the Node server over the real tiny model: logit_bias
// takes effect, a model that produces NaN ends the request with an error
// instead of sampling noise, SSE reaches an HTTP/1.0 client, and a keyless
// server answers no cross-origin page.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { memorySource } from '../../src/model/source.ts';
import { loadTokenizer } from '../../src/tokenizer/load.ts';
import { API_KEY, startNodeServer, TINY_MODEL, TINY_MODEL_ID, type TestServer } from './support/servers.ts';

const headers = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' };

async function complete(server: TestServer, body: object): Promise<Response> {
  return fetch(`${server.url}/v1/completions`, { method: 'POST', headers, body: JSON.stringify({ model: TINY_MODEL_ID, ...body }) });
}

describe('logit_bias', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startNodeServer(); });
  afterAll(async () => { await server?.close(); });

  it('−100 bans a token, +100 forces one (greedy)', async () => {
    const request = { prompt: 'Once upon a time', max_tokens: 6, temperature: 0, logprobs: 1 };
    const base = await (await complete(server, request)).json();
    const tokenizer = await loadTokenizer(await fsSource(TINY_MODEL), { module: await loadWasmModuleFromDisk() });
    const firstId = tokenizer.encode(base.choices[0].logprobs.tokens[0], { parseSpecial: false });
    tokenizer.dispose();
    expect(firstId, 'the first generated token is one token of the vocabulary').toHaveLength(1);
    const withoutIt = await (await complete(server, { ...request, logit_bias: { [firstId[0]]: -100 } })).json();
    expect(withoutIt.choices[0].logprobs.tokens[0]).not.toBe(base.choices[0].logprobs.tokens[0]);
    expect(withoutIt.choices[0].text).not.toBe(base.choices[0].text);
    const forced = await (await complete(server, { ...request, logit_bias: { 337: 100 } })).json();
    const once = await (await complete(server, { ...request, max_tokens: 1, logit_bias: { 337: 100 } })).json();
    expect(forced.choices[0].logprobs.tokens).toEqual(Array(6).fill(once.choices[0].logprobs.tokens[0]));
  });
});

describe('a model whose logits are NaN', () => {
  let server: TestServer;
  beforeAll(async () => {
    // tiny-a with a NaN in the final norm: every logit is NaN.
    const safetensors = new Uint8Array(readFileSync(`${TINY_MODEL}/model.safetensors`));
    const n = Number(new DataView(safetensors.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(safetensors.subarray(8, 8 + n)));
    new DataView(safetensors.buffer).setFloat32(8 + n + header['model.norm.weight'].data_offsets[0], NaN, true);
    const files: Record<string, Uint8Array> = { 'model.safetensors': safetensors };
    for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) files[name] = new Uint8Array(readFileSync(`${TINY_MODEL}/${name}`));
    server = await startNodeServer({ model: memorySource(files, TINY_MODEL_ID) });
  });
  afterAll(async () => { await server?.close(); });

  it('ends each request with a clear error, never sampled tokens, and frees its cache', async () => {
    const whole = await complete(server, { prompt: 'hello', max_tokens: 5, temperature: 0 });
    expect(whole.status).toBe(500);
    expect((await whole.json()).error).toMatchObject({ type: 'server_error', code: 'non_finite_logits' });
    const streamed = await complete(server, { prompt: 'hello', max_tokens: 5, stream: true, temperature: 1 });
    const text = await streamed.text();
    // The first event is already the failure: a status, not a stream.
    expect(streamed.status).toBe(500);
    expect(text).toContain('non-finite logit');
    expect(text).not.toContain('\\u0000');
    expect(await server.cacheBytesInUse()).toBe(0);
  });
});

describe('HTTP details', () => {
  let keyed: TestServer;
  let open: TestServer;
  let listed: TestServer;
  beforeAll(async () => {
    [keyed, open, listed] = await Promise.all([
      startNodeServer(),
      startNodeServer({ apiKey: undefined }),
      startNodeServer({ cors: ['https://app.example'] }),
    ]);
  });
  afterAll(async () => { await Promise.all([keyed, open, listed].map((s) => s?.close())); });

  it('an HTTP/1.0 client reads a whole SSE stream (the runtime frames it, no chunked encoding)', async () => {
    const { port } = new URL(keyed.url);
    const body = JSON.stringify({ model: TINY_MODEL_ID, prompt: 'hello', max_tokens: 4, temperature: 0, stream: true });
    const raw = await new Promise<string>((resolve, reject) => {
      let got = '';
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /v1/completions HTTP/1.0\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      });
      socket.on('data', (d: Buffer) => { got += d.toString(); });
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    const [head, payload] = raw.split('\r\n\r\n', 2).length === 2 ? [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)] : [raw, ''];
    expect(head).toMatch(/^HTTP\/1\.[01] 200/);
    expect(head.toLowerCase()).not.toContain('transfer-encoding: chunked');
    expect(payload.startsWith('data: {')).toBe(true);
    expect(payload.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  const preflight = (server: TestServer, origin: string) => fetch(`${server.url}/v1/chat/completions`, {
    method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
  });

  it('CORS: a keyless server answers no other origin; a keyed one any; a list only its origins', async () => {
    expect((await preflight(open, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(keyed, 'https://evil.example')).headers.get('access-control-allow-origin')).toBe('*');
    expect((await preflight(listed, 'https://app.example')).headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await preflight(listed, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    // Same-origin use of the keyless server is unaffected.
    const ok = await fetch(`${open.url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: TINY_MODEL_ID, prompt: 'hi', max_tokens: 2 }) });
    expect(ok.status).toBe(200);
    // A simple cross-site form POST (no preflight) never runs the model.
    const form = await fetch(`${open.url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ model: TINY_MODEL_ID, prompt: 'hi' }) });
    expect(form.status).toBe(415);
  });
});
