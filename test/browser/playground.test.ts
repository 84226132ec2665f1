// The playground in Chromium, served by `edgeseek serve` (serveNode) with an
// API key: the key is typed under Settings (the page holds none), a message
// streams a reply from the server's /v1/chat/completions with TTFT and tok/s
// shown, and "in this browser" loads the same model into the page with a
// progress bar that completes before the reply comes from the page. The last
// screenshot is kept in test/output/playground.png for a person to look at.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveNode, type NodeServer } from '../../src/entries/node.ts';
import { GOLDEN_DIR } from '../support/golden.ts';
import { launchChromium, NO_BROWSER, openPage } from './support/chromium.ts';

const OUTPUT = fileURLToPath(new URL('../output/', import.meta.url));
const KEY = 'sk-playground-test-0123456789';
const TIMEOUT = 300_000;

/** Sends `text` and waits for the reply to finish; returns its text and how many times the bubble changed while it streamed. */
async function sendAndWait(page: Page, text: string): Promise<{ reply: string; updates: number; stats: string }> {
  const replies = await page.$$eval('.assistant', (all) => all.length);
  await page.evaluate(() => {
    const w = window as unknown as { updates: number; observer?: MutationObserver };
    w.updates = 0;
    w.observer?.disconnect();
    w.observer = new MutationObserver(() => { w.updates++; });
    w.observer.observe(document.getElementById('chat')!, { subtree: true, childList: true, characterData: true });
  });
  await page.type('#message', text);
  await page.click('#send');
  await page.waitForFunction((n) => {
    const all = document.querySelectorAll('.assistant');
    return all.length > n && !all[all.length - 1].classList.contains('streaming');
  }, { timeout: TIMEOUT - 60_000 }, replies);
  return page.evaluate(() => ({
    reply: [...document.querySelectorAll('.assistant')].at(-1)!.textContent ?? '',
    updates: (window as unknown as { updates: number }).updates,
    stats: document.getElementById('stats')!.textContent ?? '',
  }));
}

describe.skipIf(NO_BROWSER)('playground in Chromium', () => {
  let browser: Browser;
  let server: NodeServer;
  beforeAll(async () => {
    [browser, server] = await Promise.all([launchChromium(), serveNode({ model: GOLDEN_DIR, port: 0, apiKey: KEY })]);
  });
  afterAll(async () => { await browser?.close(); await server?.close(); });

  it('chat with the server, then the same model in this browser; screenshot kept in test/output/', async () => {
    const { page, errors } = await openPage(browser, `${server.url}/`);
    await page.setViewport({ width: 900, height: 800 });
    await page.waitForFunction(() => document.getElementById('model-id')?.textContent === 'tiny-a');

    // Without the key the server says so, and the page says where the key goes.
    await page.type('#message', 'hello?');
    await page.click('#send');
    await page.waitForSelector('.error');
    expect(await page.$eval('.error', (e) => e.textContent)).toMatch(/API key.*Enter the server's API key under Settings/);

    await page.click('#settings summary');
    await page.type('#api-key', KEY);
    await page.$eval('#api-key', (e) => e.dispatchEvent(new Event('change')));
    await page.$eval('#temperature', (e) => { (e as HTMLInputElement).value = '0'; });
    await page.$eval('#max-tokens', (e) => { (e as HTMLInputElement).value = '24'; });
    const fromServer = await sendAndWait(page, 'Tell me about Python.');
    expect(fromServer.reply.length, 'a reply streamed from the server').toBeGreaterThan(0);
    expect(fromServer.updates, 'the reply grew chunk by chunk').toBeGreaterThan(2);
    expect(fromServer.stats).toMatch(/^server · TTFT \d+ ms · [\d.]+ tok\/s · 24 tokens$/);

    await page.click('#mode');
    await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value === 1, { timeout: TIMEOUT - 60_000 });
    const label = await page.$eval('#progress-label', (e) => e.textContent);
    expect(label, 'the page loaded the model on WebGPU (SwiftShader here)').toBe('ready: webgpu');
    const inPage = await sendAndWait(page, 'And now from this page?');
    expect(inPage.reply.length, 'a reply generated in the page').toBeGreaterThan(0);
    expect(inPage.stats).toMatch(/^in this browser \(webgpu\) · TTFT \d+ ms · [\d.]+ tok\/s · 24 tokens$/);

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: `${OUTPUT}playground.png`, fullPage: true });
    const html = await page.content();
    expect(html, 'the page never shows the key').not.toContain(`Bearer ${KEY}`);
    // Besides the deliberate 401, the only failed request is the probe for a sharded checkpoint's index.
    expect(errors.filter((e) => !/status of 401/.test(e) && !/status of 404.*model\.safetensors\.index\.json$/.test(e)), 'console errors').toEqual([]);
  }, TIMEOUT);
});
