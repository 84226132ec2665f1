// The browser build in headless Chromium (SwiftShader WebGPU): the golden
// model's logits at every position on webgpu, on cpu with one thread, and on
// cpu with Web Worker threads in a cross-origin isolated page, from
// safetensors and from GGUF; and createEngine generating the golden greedy text.
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';
import type { StaticServer } from '../support/static-server.ts';
import { launchChromium, NO_BROWSER, openPage } from './support/chromium.ts';
import { startPageServer } from './support/page-server.ts';

const golden = readGolden();
const F32_BOUND = 1e-4; // test/fixtures/golden/README.md: an f32 implementation, per position
// SwiftShader compiles every pipeline on the CPU: a WebGPU load with three sequences takes tens of seconds there.
const TIMEOUT = 600_000;

interface LogitsRun { logits: number[][]; backend: string; threads?: number }

/** In the page: the runner over the bundle's own loading, all-position logits of each sequence. */
function pageLogits(page: Page, model: string, backend: 'cpu' | 'webgpu', threads: number): Promise<LogitsRun> {
  const sequences = golden.sequences.map((s) => s.ids);
  return page.evaluate(async (model, backend, threads, sequences) => {
    const es = (window as unknown as { edgeseek: typeof import('../../src/browser.ts') }).edgeseek;
    const source = await es.openModelUrl(model, { cache: false });
    const runner = await es.loadModelRunner(source, {
      backend, threads, wasmModule: await es.loadWasmModule(), threadsModule: threads > 1 ? await es.loadWasmThreadsModule() : undefined,
    });
    try {
      const logits: number[][] = [];
      for (const ids of sequences) {
        const seq = runner.newSequence(ids.length);
        logits.push(Array.from(await runner.forward(seq, ids, { allLogits: true })));
        runner.release(seq);
      }
      return { logits, backend: runner.backend.name, threads: runner.backend.threads };
    } finally {
      runner.dispose();
    }
  }, model, backend, threads, sequences);
}

function expectGoldenLogits(run: LogitsRun, what: string): void {
  golden.sequences.forEach((s, i) => {
    const ref = readF32(`${GOLDEN_DIR}/${s.logits_file}`);
    const got = Float32Array.from(run.logits[i]);
    const V = ref.length / s.ids.length;
    let worst = 0;
    for (let p = 0; p < s.ids.length; p++) worst = Math.max(worst, relativeError(got.subarray(p * V, (p + 1) * V), ref.subarray(p * V, (p + 1) * V)));
    expect(worst, `${what}, sequence ${i} (${s.ids.length} tokens): worst ‖Δ‖/‖ref‖ = ${worst.toExponential(2)}`).toBeLessThanOrEqual(F32_BOUND);
  });
}

/** In the page: createEngine (the package's API) and greedy generation of each golden prompt. */
function pageGreedy(page: Page, options: { model: string; backend?: 'cpu' | 'webgpu' | 'auto' }) {
  return page.evaluate(async (options, prompts) => {
    const es = (window as unknown as { edgeseek: typeof import('../../src/browser.ts') }).edgeseek;
    const engine = await es.createEngine({ ...options, cache: false });
    try {
      const continuations: number[][] = [];
      for (const p of prompts) {
        const ids: number[] = [];
        for await (const e of engine.generate({ promptIds: p.ids, maxTokens: p.count, temperature: 0 })) if (e.type === 'token') ids.push(e.id);
        continuations.push(ids);
      }
      return { continuations, model: engine.model };
    } finally {
      await engine.dispose();
    }
  }, options, golden.greedy.map((g) => ({ ids: g.prompt_ids, count: g.continuation_ids.length })));
}

const expectedContinuations = golden.greedy.map((g) => g.continuation_ids);

describe.skipIf(NO_BROWSER)('browser build in Chromium: golden tiny-a', () => {
  let browser: Browser;
  let server: StaticServer;
  let isolatedServer: StaticServer;
  let page: Page;
  let isolatedPage: Page;
  beforeAll(async () => {
    [browser, server, isolatedServer] = await Promise.all([launchChromium(), startPageServer(), startPageServer({ isolated: true })]);
    page = (await openPage(browser, `${server.url}/`)).page;
    isolatedPage = (await openPage(browser, `${isolatedServer.url}/`)).page;
    await page.waitForFunction('window.ready === true');
    await isolatedPage.waitForFunction('window.ready === true');
  });
  afterAll(async () => { await browser?.close(); await server?.close(); await isolatedServer?.close(); });

  for (const [format, model] of [['safetensors', '/tiny-a/'], ['GGUF', '/gguf-only/']] as const) {
    it(`cpu, one thread (not cross-origin isolated), ${format}: golden logits`, async () => {
      const run = await pageLogits(page, model, 'cpu', 1);
      expect(run).toMatchObject({ backend: 'cpu', threads: 1 });
      expectGoldenLogits(run, `cpu ${format}`);
    }, TIMEOUT);

    it(`cpu, 2 Web Worker threads over shared memory (cross-origin isolated), ${format}: golden logits`, async () => {
      expect(await isolatedPage.evaluate(() => crossOriginIsolated), 'the COOP/COEP page is isolated').toBe(true);
      const run = await pageLogits(isolatedPage, model, 'cpu', 2);
      expect(run).toMatchObject({ backend: 'cpu', threads: 2 });
      expectGoldenLogits(run, `cpu threads ${format}`);
    }, TIMEOUT);
  }

  // The URL of the .gguf file itself (the directory /tiny-a/ also holds safetensors).
  for (const [format, model] of [['safetensors', '/tiny-a/'], ['GGUF', '/tiny-a/model.gguf']] as const) {
    it(`webgpu (SwiftShader, no shader-f16), ${format}: golden logits`, async () => {
      const run = await pageLogits(page, model, 'webgpu', 1);
      expect(run.backend).toBe('webgpu');
      expectGoldenLogits(run, `webgpu ${format}`);
    }, TIMEOUT);
  }

  it('createEngine on webgpu from safetensors generates the golden greedy text', async () => {
    const { continuations, model } = await pageGreedy(page, { model: '/tiny-a/', backend: 'webgpu' });
    expect(model).toMatchObject({ id: 'tiny-a', backend: 'webgpu' });
    expect(continuations).toEqual(expectedContinuations);
  }, TIMEOUT);

  it('createEngine on cpu from GGUF, not isolated: one thread, the golden greedy text', async () => {
    const { continuations, model } = await pageGreedy(page, { model: '/gguf-only/', backend: 'cpu' });
    // Chromium has relaxed SIMD, so the self-tested relaxed build runs; an F32 file computes in f32.
    expect(model).toEqual({
      id: 'gguf-only', contextLength: 512, vocabSize: 1000, backend: 'cpu', threads: 1, activations: 'f32', kernels: 'relaxed',
    });
    expect(continuations).toEqual(expectedContinuations);
  }, TIMEOUT);

  it('createEngine on cpu in an isolated page: Web Worker threads by default (engine.model says how many), the golden greedy text', async () => {
    const cores = await isolatedPage.evaluate(() => navigator.hardwareConcurrency);
    const { continuations, model } = await pageGreedy(isolatedPage, { model: '/tiny-a/', backend: 'cpu' });
    expect(model.threads, `threads on a ${cores}-core page`).toBe(Math.max(1, Math.min(8, cores)));
    expect(continuations).toEqual(expectedContinuations);
  }, TIMEOUT);
});
