// `npm start` (scripts/start.js → wrangler dev): the Worker in workerd serving
// the OpenAI API on localhost. The default model is models/default; this test
// points it at the tiny golden model through EDGESEEK_MODEL_DIR.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ROOT, TINY_MODEL } from './support/servers.ts';

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
});

describe('npm start', () => {
  it('serves the model through wrangler dev with the OpenAI API', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['scripts/start.js'], {
      cwd: ROOT, env: { ...process.env, EDGESEEK_MODEL_DIR: TINY_MODEL, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout!.on('data', (d: Buffer) => { log += d; });
    child.stderr!.on('data', (d: Buffer) => { log += d; });
    try {
      let health: Response | undefined;
      // Until it answers or exits: building and starting workerd is slow on a loaded machine, never bounded here.
      while (!health && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 500));
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      }
      expect(health?.status, log).toBe(200);
      const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'default', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true }),
      });
      expect(response.status).toBe(200);
      expect((await response.text()).endsWith('data: [DONE]\n\n')).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
