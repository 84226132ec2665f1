// The WebGPU backend under Deno (navigator.gpu: wgpu on lavapipe Vulkan, with
// shader-f16): test/webgpu/deno/run.ts runs the kernels, or one model's files,
// there and prints JSON; this asserts on it. Each case is its own Deno process
// and its own test, so no single test carries the whole GPU workload.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NO_GPU } from './gpu-backend.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtureDirs = readdirSync(`${root}/test/fixtures/models`, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

interface DenoReport {
  adapter: string;
  shaderF16: boolean;
  featureLevel: string;
  results: { name: string; rel: number; bound: number }[];
  models: { name: string; worst: number; bound: number }[];
}

async function runDeno(...args: string[]): Promise<DenoReport> {
  const { stdout } = await promisify(execFile)(`${root}/node_modules/.bin/deno`, ['run', '-A', 'test/webgpu/deno/run.ts', ...args], {
    cwd: root, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', DENO_NO_UPDATE_CHECK: '1' }, maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as DenoReport;
}

describe.skipIf(NO_GPU)('webgpu backend under Deno', () => {
  it('kernels on navigator.gpu match the float64 references', async () => {
    const report = await runDeno('kernels');
    console.log(`deno adapter: ${report.adapter} (shader-f16: ${report.shaderF16}, ${report.featureLevel})`);
    for (const r of report.results) expect(r.rel, `deno ${r.name}: ‖out−ref‖/‖ref‖ = ${r.rel}`).toBeLessThan(r.bound);
    expect(report.results.length).toBeGreaterThan(10);
  });

  for (const name of ['tiny-a', ...fixtureDirs]) {
    it(`model ${name}: logits of every file match the reference`, async () => {
      const report = await runDeno('model', name);
      for (const m of report.models) expect(m.worst, `deno ${m.name}: worst ‖Δ‖/‖ref‖ = ${m.worst}`).toBeLessThanOrEqual(m.bound);
      expect(report.models.length, 'files checked').toBeGreaterThan(0);
    });
  }
});
