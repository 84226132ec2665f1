// Headless Chromium for the browser tests: Debian's `chromium` package (never
// a downloaded browser) driven by puppeteer-core, with SwiftShader's WebGPU.
// No browser is a failure, not a skip, unless EDGESEEK_NO_BROWSER_TESTS=1 says
// this machine cannot install chromium (as EDGESEEK_NO_GPU_TESTS does for WebGPU).
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const NO_BROWSER = process.env.EDGESEEK_NO_BROWSER_TESTS === '1';
/** The binary itself: Debian's /usr/bin/chromium wrapper script fails in this environment. */
export const CHROMIUM = '/usr/lib/chromium/chromium';

// The network is closed here, and tests must not depend on Google's services anyway.
const ARGS = [
  '--no-sandbox', '--enable-unsafe-webgpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does), or set EDGESEEK_NO_BROWSER_TESTS=1 where it cannot be installed`);
  }
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, protocolTimeout: 600_000 });
}

/** A page whose console errors and uncaught exceptions are collected (for assertion messages). */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`${message.text()} ${message.location().url ?? ''}`.trim()); });
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors };
}
