// The multi-threaded CPU backend under Deno (its node:worker_threads) gives
// the golden logits: test/engine/deno-threads.mts runs there and prints JSON.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('Deno: 2 threads over shared Wasm memory match the golden logits (≤ 1e-4 per position)', async () => {
  const { stdout } = await promisify(execFile)(`${root}/node_modules/.bin/deno`, ['run', '-A', 'test/engine/deno-threads.mts'], {
    cwd: root,
  });
  const report = JSON.parse(stdout.trim().split('\n').pop()!) as { worst: number; positions: number };
  expect(report.positions).toBe(33);
  expect(report.worst, `worst ‖Δ‖/‖ref‖ = ${report.worst}`).toBeLessThanOrEqual(1e-4);
});
