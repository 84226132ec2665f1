// The relaxed-SIMD build under Deno (test/kernels/deno-relaxed.mts), where the
// i32x4 relaxed dot-add passes the self-test: the _dotadd kernel twin that
// Node 20 cannot run is checked against the float64 reference here, next to
// the other int16 kernels in both builds and a golden model on the relaxed
// threads build.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('Deno: relaxed build chosen with its dot-add; every int16 kernel within 2e-6 of the reference over its quantized activations; golden Q8_0 on relaxed threads within 6e-4', async () => {
  const { stdout } = await promisify(execFile)(`${root}/node_modules/.bin/deno`, ['run', '-A', 'test/kernels/deno-relaxed.mts'], {
    cwd: root, timeout: 240_000,
  });
  const report = JSON.parse(stdout.trim().split('\n').pop()!) as {
    build: string; dotAdd: boolean; kernels: Record<string, number>; model: { build: string; worst: number };
  };
  expect(report.build, 'kernel build Deno runs').toBe('relaxed');
  expect(report.dotAdd, 'i32x4.relaxed_dot_i8x16_i7x16_add_s passes its self-test under Deno').toBe(true);
  expect(Object.keys(report.kernels).filter((k) => k.includes('_dotadd')).length).toBe(6);
  for (const [name, rel] of Object.entries(report.kernels)) expect(rel, `${name}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(2e-6);
  expect(report.model.build).toBe('relaxed');
  expect(report.model.worst, `golden Q8_0, int16, relaxed threads: worst ‖Δ‖/‖ref‖ = ${report.model.worst}`).toBeLessThanOrEqual(6e-4);
});
