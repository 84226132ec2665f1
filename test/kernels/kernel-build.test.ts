// Choosing the kernel build (src/backend/cpu/kernel-build.ts): the relaxed one
// where the runtime compiles it and its self-test passes every relaxed op the
// kernels need, else the plain one — exercised by forcing each failure: a
// "relaxed" module whose self-test fails, a runtime without relaxed SIMD (a
// CLI process with EDGESEEK_NO_RELAXED_SIMD=1), and simd: 'plain'.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { failedOps, RELAXED_OPS, REQUIRED_RELAXED_OPS, relaxedOpsOf, selectKernels, selfTestModule } from '../../src/backend/cpu/kernel-build.ts';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadKernelModulesFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { kernelInstance, kernelModule } from './support.ts';

const BIN = fileURLToPath(new URL('../../bin/edgeseek.js', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../fixtures/golden/tiny-a/model-q8_0.gguf', import.meta.url));

describe('relaxed-SIMD self-test', () => {
  it('passes f32x4.relaxed_madd and i16x8.relaxed_dot_i8x16_i7x16_s here; the plain build reports no relaxed op', async () => {
    const relaxed = await kernelInstance('relaxed');
    const ops = relaxedOpsOf(relaxed.exports);
    expect(relaxed.exports.simd_relaxed()).toBe(1);
    expect(failedOps(ops), 'required relaxed ops that fail their self-test').toEqual([]);
    expect(relaxedOpsOf((await kernelInstance('plain')).exports)).toBe(0);
    // Node 20's V8 gets i32x4.relaxed_dot_i8x16_i7x16_add_s wrong (−120 for splat(−3)·splat(5) + 1): the
    // self-test must notice, so the _dotadd kernels never run here (Deno, workerd and Chromium pass it).
    if (process.versions.node.startsWith('20.')) expect(ops & RELAXED_OPS.dotAdd, 'dot-add on Node 20').toBe(0);
  });

  it('names each failing op', () => {
    expect(failedOps(0)).toEqual(['f32x4.relaxed_madd', 'i16x8.relaxed_dot_i8x16_i7x16_s']);
    expect(failedOps(RELAXED_OPS.madd, REQUIRED_RELAXED_OPS | RELAXED_OPS.dotAdd)).toEqual([
      'i16x8.relaxed_dot_i8x16_i7x16_s', 'i32x4.relaxed_dot_i8x16_i7x16_add_s',
    ]);
  });
});

describe('selectKernels', () => {
  it('picks the relaxed build and its threads twin when the self-test passes', async () => {
    const modules = await loadKernelModulesFromDisk({ threads: true });
    const picked = await selectKernels(modules);
    expect(picked.build).toBe('relaxed');
    expect(picked.module).toBe(modules.relaxed);
    expect(picked.threadsModule).toBe(modules.relaxedThreads);
  });

  it('falls back to the plain build when the relaxed one fails its self-test, and says why', async () => {
    const plain = await kernelModule('plain');
    expect(await selfTestModule(plain)).toBe(0);
    // A "relaxed" candidate whose relaxed ops all fail (the plain module answers 0 to the self-test).
    const picked = await selectKernels({ plain, relaxed: plain });
    expect(picked.build).toBe('plain');
    expect(picked.reason).toContain('self-test failed for f32x4.relaxed_madd, i16x8.relaxed_dot_i8x16_i7x16_s');
    await expect(selectKernels({ plain, relaxed: plain }, 'relaxed')).rejects.toThrow(/simd relaxed: relaxed-SIMD self-test failed/);
  });

  it('falls back when the runtime cannot compile relaxed SIMD; plain when asked; rejects unknown choices', async () => {
    const plain = await kernelModule('plain');
    expect((await selectKernels({ plain })).build).toBe('plain');
    await expect(selectKernels({ plain }, 'relaxed')).rejects.toThrow('cannot compile the relaxed-SIMD build');
    expect((await selectKernels(await loadKernelModulesFromDisk(), 'plain')).build).toBe('plain');
    await expect(selectKernels({ plain }, 'fast' as never)).rejects.toThrow("simd must be one of auto, relaxed, plain, got 'fast'");
  });

  it('a backend on the plain build reports it; one on the relaxed build reports that and its ops', async () => {
    const plain = await createCpuBackend(await kernelModule('plain'));
    const relaxed = await createCpuBackend(await kernelModule('relaxed'));
    expect([plain.kernelBuild, plain.relaxedOps]).toEqual(['plain', 0]);
    expect(relaxed.kernelBuild).toBe('relaxed');
    expect(failedOps(relaxed.relaxedOps)).toEqual([]);
    plain.dispose();
    relaxed.dispose();
  });

  it('a process where relaxed SIMD does not compile (EDGESEEK_NO_RELAXED_SIMD=1) runs the plain build; otherwise the relaxed one', async () => {
    const run = async (env: Record<string, string>) => {
      const { stdout } = await promisify(execFile)('node', [BIN, 'bench', '--model', GOLDEN, '--prompt-tokens', '4', '--gen-tokens', '1'], {
        env: { ...process.env, ...env },
      });
      return JSON.parse(stdout) as { cpu_kernels: string; activations: string };
    };
    const [without, withRelaxed] = await Promise.all([run({ EDGESEEK_NO_RELAXED_SIMD: '1' }), run({})]);
    expect(without.cpu_kernels).toBe('plain');
    expect(withRelaxed.cpu_kernels).toBe('relaxed');
  });
});
