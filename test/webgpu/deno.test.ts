// The WebGPU backend under Deno (navigator.gpu: wgpu on lavapipe Vulkan, with
// shader-f16): test/webgpu/deno/kernels.ts runs kernels and the golden model
// there and prints JSON; this asserts on it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NO_GPU } from './gpu-backend.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface DenoReport {
  adapter: string;
  shaderF16: boolean;
  featureLevel: string;
  results: { name: string; rel: number; bound: number }[];
  golden: { name: string; worst: number; bound: number }[];
}

describe.skipIf(NO_GPU)('webgpu backend under Deno', () => {
  it('kernels, golden tiny-a and every fixture model on navigator.gpu match the references', async () => {
    const { stdout } = await promisify(execFile)(`${root}/node_modules/.bin/deno`, ['run', '-A', 'test/webgpu/deno/kernels.ts'], {
      cwd: root, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' }, maxBuffer: 1 << 24, timeout: 240_000,
    });
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as DenoReport;
    console.log(`deno adapter: ${report.adapter} (shader-f16: ${report.shaderF16}, ${report.featureLevel})`);
    for (const r of report.results) expect(r.rel, `deno ${r.name}: rel=${r.rel}`).toBeLessThan(r.bound);
    for (const g of report.golden) expect(g.worst, `deno ${g.name}: worst rel=${g.worst}`).toBeLessThanOrEqual(g.bound);
    expect(report.results.length).toBeGreaterThan(10);
    // tiny-a twice, then every file of every fixture model (test/fixtures/models).
    expect(report.golden.length).toBeGreaterThan(20);
  });
});
