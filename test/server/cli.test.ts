// `edgeseek generate` streams the engine's text to stdout; `edgeseek serve`
// answers the OpenAI API on Node (the compiled CLI, as users run it).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.ts';
import { ROOT, TINY_MODEL, TINY_MODEL_ID } from './support/servers.ts';

const bin = `${ROOT}/bin/edgeseek.js`;

describe('edgeseek CLI: generate and serve', () => {
  it('generate prints what the engine generates (greedy)', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'generate', '--model', TINY_MODEL, '--prompt', 'Once upon a time', '--max-tokens', '16', '--temperature', '0'], { cwd: ROOT });
    const engine = await createEngine({ model: TINY_MODEL });
    let text = '';
    for await (const e of engine.generate({ prompt: 'Once upon a time', maxTokens: 16, temperature: 0 })) text += e.text;
    await engine.dispose();
    expect(stdout).toBe(`${text}\n`);
    expect(stderr).toMatch(/16 generated tokens/);
  });

  it('serve takes the backend and batching options and answers /v1/completions until SIGTERM', async () => {
    const child = spawn(process.execPath, [
      bin, 'serve', '--model', TINY_MODEL, '--port', '0', '--api-key', 'k',
      '--threads', '2', '--quantize', 'q8_0', '--activations', 'int16', '--step-tokens', '8', '--block-size', '8', '--cache-budget-bytes', '1000000',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let log = '';
        child.stderr!.on('data', (d: Buffer) => { log += d.toString(); const m = /on (http:\/\/\S+)\/v1/.exec(log); if (m) resolve(m[1]); });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${log}`)));
      });
      const response = await fetch(`${url}/v1/completions`, {
        method: 'POST', headers: { Authorization: 'Bearer k', 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: TINY_MODEL_ID, prompt: 'hi', max_tokens: 3, temperature: 0 }),
      });
      expect(response.status).toBe(200);
      expect((await response.json()).usage.completion_tokens).toBe(3);
      const health = await (await fetch(`${url}/health`)).json();
      // tiny-a: 480 bytes per position; 1,000,000 bytes are 260 whole blocks of 8.
      expect(health).toMatchObject({ cache_block_tokens: 8, cache_blocks: 260, running: 0, waiting: 0, cache_bytes_in_use: 0 });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
  });
});
