// The playground page is served at / by every server: the Worker (Miniflare),
// `edgeseek serve` (Node) and `deno task serve` (test/server/deno.test.ts) —
// cross-origin isolated, with the browser build beside it and the model's
// files (by range, with ETags; behind the API key when there is one). The page
// itself is driven in Chromium by test/browser/playground.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startWorkerServer, type TestServer } from './support/servers.ts';
import { serveNode, type NodeServer } from '../../src/entries/node.ts';
import { TINY_MODEL } from './support/servers.ts';

async function expectPlayground(url: string, apiKey: string | undefined): Promise<void> {
  const page = await fetch(`${url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('Content-Type')).toMatch(/^text\/html/);
  expect(page.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
  expect(page.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
  const html = await page.text();
  expect(html).toContain('playground/app.js');
  if (apiKey) expect(html, 'the page never holds the key').not.toContain(apiKey);
  for (const [file, type] of [['app.js', 'text/javascript'], ['style.css', 'text/css'], ['edgeseek.js', 'text/javascript'], ['edgeseek.wasm', 'application/wasm']]) {
    const response = await fetch(`${url}/playground/${file}`);
    expect(response.status, file).toBe(200);
    expect(response.headers.get('Content-Type'), file).toMatch(new RegExp(`^${type}`));
    await response.arrayBuffer();
  }
  expect(await (await fetch(`${url}/playground/config.json`)).json()).toEqual({
    model: 'tiny-a', modelUrl: 'playground/model/', inBrowser: true, apiKeyRequired: apiKey !== undefined,
  });
  const auth = apiKey ? { Authorization: `Bearer ${apiKey}` } : undefined;
  if (apiKey) expect((await fetch(`${url}/playground/model/config.json`)).status, 'model files need the key').toBe(401);
  const range = await fetch(`${url}/playground/model/model.safetensors`, { headers: { ...auth, Range: 'bytes=0-7' } });
  expect(range.status).toBe(206);
  expect(range.headers.get('Content-Range')).toBe('bytes 0-7/1308592');
  expect(range.headers.get('ETag')).toBeTruthy();
  expect((await range.arrayBuffer()).byteLength).toBe(8);
  const head = await fetch(`${url}/playground/model/tokenizer.json`, { method: 'HEAD', headers: auth });
  expect(head.status).toBe(200);
  expect(head.headers.get('Content-Length')).toBe('32281');
  // Only the model's own files: the golden logits next to them are not served.
  expect((await fetch(`${url}/playground/model/golden.json`, { headers: auth })).status).toBe(404);
  expect((await fetch(`${url}/playground/..%2Fpackage.json`)).status).toBe(404);
}

describe('playground routes', () => {
  let node: NodeServer;
  let worker: TestServer;
  beforeAll(async () => {
    [node, worker] = await Promise.all([serveNode({ model: TINY_MODEL, port: 0 }), startWorkerServer()]);
  });
  afterAll(async () => { await node?.close(); await worker?.close(); });

  it('edgeseek serve (Node): the page, its files, the browser build and the model files', async () => {
    await expectPlayground(node.url, undefined);
  });

  it('the Worker: the same from its bundled playground module, the model from its assets, behind the API key', async () => {
    await expectPlayground(worker.url, API_KEY);
  });

  it('turned off, / is the API\'s 404 again', async () => {
    const off = await serveNode({ model: TINY_MODEL, port: 0, playground: false });
    try {
      const response = await fetch(`${off.url}/`);
      expect(response.status).toBe(404);
      expect((await response.json()).error.code).toBe('unknown_url');
    } finally {
      await off.close();
    }
  });
});
