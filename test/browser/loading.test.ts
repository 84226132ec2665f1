// Loading a model in a page: download progress in bytes and files, the files
// kept in the Cache API (a second visit fetches no model bytes), range reads
// in chunks, clear errors for a missing or corrupt file, and the README's
// "edgeseek in a page" example (examples/in-a-page.html) running as written.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';
import type { StaticServer } from '../support/static-server.ts';
import { launchChromium, NO_BROWSER, openPage } from './support/chromium.ts';
import { DIST_BROWSER, startPageServer } from './support/page-server.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/in-a-page.html', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const TIMEOUT = 300_000;
const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

type Edgeseek = typeof import('../../src/browser.ts');
type LoadProgress = import('../../src/engine/engine.ts').LoadProgress;

/** In the page: createEngine on the cpu backend with progress recorded, then disposed. */
function loadInPage(page: Page, model: string, cache: string | false): Promise<LoadProgress[]> {
  return page.evaluate(async (model, cache) => {
    const es = (window as unknown as { edgeseek: Edgeseek }).edgeseek;
    const progress: LoadProgress[] = [];
    const engine = await es.createEngine({ model, backend: 'cpu', cache, onProgress: (p) => progress.push(p) });
    await engine.dispose();
    return progress;
  }, model, cache);
}

describe.skipIf(NO_BROWSER)('loading a model in a page', () => {
  let browser: Browser;
  let server: StaticServer;
  let page: Page;
  let corrupt: string;
  let changing: string;
  beforeAll(async () => {
    changing = mkdtempSync(join(tmpdir(), 'edgeseek-changing-'));
    for (const f of MODEL_FILES) copyFileSync(join(GOLDEN_DIR, f), join(changing, f));
    // A model directory whose weights file was cut short in transfer.
    corrupt = mkdtempSync(join(tmpdir(), 'edgeseek-corrupt-'));
    for (const f of MODEL_FILES) copyFileSync(join(GOLDEN_DIR, f), join(corrupt, f));
    writeFileSync(join(corrupt, 'model.safetensors'), readFileSync(join(GOLDEN_DIR, 'model.safetensors')).subarray(0, 600_000));
    [browser, server] = await Promise.all([launchChromium(), startPageServer({
      routes: { '/corrupt/': corrupt, '/changing/': changing, '/example/index.html': EXAMPLE, '/example/edgeseek/': DIST_BROWSER, '/example/models/tiny-a/': GOLDEN_DIR },
    })]);
    page = (await openPage(browser, `${server.url}/`)).page;
    await page.waitForFunction('window.ready === true');
  });
  afterAll(async () => { await browser?.close(); await server?.close(); rmSync(corrupt, { recursive: true, force: true }); rmSync(changing, { recursive: true, force: true }); });

  it('reports download progress in bytes and files, then weights; a second visit gets every file from the Cache API', async () => {
    const sizes = MODEL_FILES.map((f) => readFileSync(join(GOLDEN_DIR, f)).byteLength);
    const total = sizes.reduce((a, b) => a + b, 0);
    const first = await loadInPage(page, '/tiny-a/', 'edgeseek-test-visits');
    const downloads = first.filter((p) => p.stage === 'download');
    expect(downloads[0]).toMatchObject({ loaded: 0, total, filesLoaded: 0, filesTotal: 4 });
    expect(downloads.at(-1)).toMatchObject({ loaded: total, total, filesLoaded: 4, filesTotal: 4, fromCache: 0 });
    expect(downloads.every((p, i) => i === 0 || p.loaded >= downloads[i - 1].loaded), 'bytes only grow').toBe(true);
    expect(first.map((p) => p.stage).filter((s, i, all) => s !== all[i - 1])).toEqual(['download', 'weights', 'tokenizer', 'ready']);

    const before = server.requests.length;
    const second = await browser.newPage();
    try {
      await second.goto(`${server.url}/`);
      await second.waitForFunction('window.ready === true');
      const again = (await loadInPage(second, '/tiny-a/', 'edgeseek-test-visits')).filter((p) => p.stage === 'download');
      expect(again.at(-1)).toMatchObject({ loaded: total, fromCache: total, filesLoaded: 4 });
    } finally {
      await second.close();
    }
    const modelRequests = server.requests.slice(before).filter((r) => r.path.startsWith('/tiny-a/'));
    expect(modelRequests.filter((r) => r.method === 'GET'), 'second visit: no GET of a model file').toEqual([]);
    expect(modelRequests.reduce((a, r) => a + r.bodyBytes, 0), 'second visit: model bytes sent').toBe(0);
  }, TIMEOUT);

  it('a file changed on the server is downloaded again (only it); with the server unreachable the cached copy loads', async () => {
    writeFileSync(join(changing, 'tokenizer_config.json'), readFileSync(join(GOLDEN_DIR, 'tokenizer_config.json')));
    const first = (await loadInPage(page, '/changing/', 'edgeseek-test-change')).filter((p) => p.stage === 'download').at(-1)!;
    expect(first.fromCache).toBe(0);
    // The same bytes and size, a new modification time: a new ETag.
    utimesSync(join(changing, 'tokenizer_config.json'), new Date(), new Date(Date.now() + 60_000));
    const before = server.requests.length;
    const second = (await loadInPage(page, '/changing/', 'edgeseek-test-change')).filter((p) => p.stage === 'download').at(-1)!;
    const size = readFileSync(join(changing, 'tokenizer_config.json')).byteLength;
    expect(second).toMatchObject({ loaded: first.total, fromCache: first.total - size });
    expect(server.requests.slice(before).filter((r) => r.method === 'GET').map((r) => r.path)).toEqual(['/changing/tokenizer_config.json']);
    const keys = await page.evaluate(async () => (await (await caches.open('edgeseek-test-change')).keys()).map((r) => r.url));
    expect(keys.filter((k) => k.includes('tokenizer_config.json?edgeseek-version=')), 'the old version\'s chunk is gone').toHaveLength(1);

    server.unreachable = '/changing/';
    try {
      const offline = (await loadInPage(page, '/changing/', 'edgeseek-test-change')).filter((p) => p.stage === 'download').at(-1)!;
      expect(offline).toMatchObject({ loaded: first.total, fromCache: first.total });
    } finally {
      server.unreachable = undefined;
    }
  }, TIMEOUT);

  it('reads a large file by Range requests, one chunk each, and the logits are the golden ones', async () => {
    const before = server.requests.length;
    const sequence = readGolden().sequences[0];
    const logits = await page.evaluate(async (ids) => {
      const es = (window as unknown as { edgeseek: Edgeseek }).edgeseek;
      const source = await es.openModelUrl('/tiny-a/', { cache: false, chunkBytes: 256 * 1024 });
      const runner = await es.loadModelRunner(source, { backend: 'cpu', wasmModule: await es.loadWasmModule() });
      const seq = runner.newSequence(ids.length);
      const out = Array.from(await runner.forward(seq, ids, { allLogits: true }));
      runner.dispose();
      return out;
    }, sequence.ids);
    const ranges = server.requests.slice(before).filter((r) => r.path === '/tiny-a/model.safetensors' && r.method === 'GET');
    expect(ranges.length, 'model.safetensors (1.3 MB) in 256 KiB chunks').toBe(Math.ceil(readFileSync(join(GOLDEN_DIR, 'model.safetensors')).byteLength / (256 * 1024)));
    expect(ranges.every((r) => r.status === 206 && r.bodyBytes <= 256 * 1024)).toBe(true);
    const ref = readF32(`${GOLDEN_DIR}/${sequence.logits_file}`);
    expect(relativeError(Float32Array.from(logits), ref)).toBeLessThan(1e-4);
  }, TIMEOUT);

  it('a missing model, a missing .gguf file and a truncated weights file are errors naming the URL and file', async () => {
    const errorOf = (model: string) => page.evaluate(async (model) => {
      const es = (window as unknown as { edgeseek: Edgeseek }).edgeseek;
      try { await es.createEngine({ model, backend: 'cpu', cache: false }); return 'loaded'; } catch (error) { return (error as Error).message; }
    }, model);
    expect(await errorOf('/nothing/')).toMatch(/\/nothing\/: no model found \(expected config\.json \+ model\.safetensors/);
    expect(await errorOf('/tiny-a/missing.gguf')).toMatch(/\/tiny-a\/missing\.gguf: model file not found \(HTTP 404\)/);
    expect(await errorOf('/corrupt/')).toMatch(/model\.safetensors: tensor \S+ ends at byte \d+ but the file has 600000 bytes \(truncated\?\)/);
  }, TIMEOUT);

  it('the README example (examples/in-a-page.html, quoted verbatim in README.md) streams the greedy reply', async () => {
    const example = readFileSync(EXAMPLE, 'utf8');
    expect(readFileSync(README, 'utf8'), 'README.md quotes examples/in-a-page.html').toContain(example.trim());
    const engine = await createEngine({ model: GOLDEN_DIR });
    let expected = '';
    try {
      for await (const e of engine.generate({ messages: [{ role: 'user', content: 'Hello!' }], maxTokens: 24, temperature: 0 })) if (e.type === 'token') expected += e.text;
    } finally {
      await engine.dispose();
    }
    const { page: examplePage, errors } = await openPage(browser, `${server.url}/example/index.html`);
    try {
      await examplePage.waitForFunction((text) => document.getElementById('out')?.textContent === text, { timeout: TIMEOUT - 30_000 }, expected)
        .catch(async (error) => { throw new Error(`${(error as Error).message}; page shows ${JSON.stringify(await examplePage.$eval('#out', (e) => e.textContent))}; errors: ${errors.join('; ')}`); });
    } finally {
      await examplePage.close();
    }
  }, TIMEOUT);
});
