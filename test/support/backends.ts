// The backends every op test runs on: the CPU backend in its modes (both SIMD
// builds, exact f32 and int16 activations, sharded memories, threads), and the
// WebGPU backend (Dawn on Mesa llvmpipe under Node) unless
// EDGESEEK_NO_GPU_TESTS=1 says this machine has no GPU stack.
import type { Backend } from '../../src/backend/backend.ts';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import type { ActivationMode } from '../../src/backend/cpu/integer-kernels.ts';
import { loadRelaxedWasmThreadsModuleFromDisk, loadWasmThreadsModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { kernelModule } from '../kernels/support.ts';
import { NO_GPU, webgpuBackend } from '../webgpu/gpu-backend.ts';

export interface TestBackend {
  readonly name: string;
  /** The activation mode of its quantized matmuls ('f32': exact). */
  readonly activations: ActivationMode;
  create(): Promise<Backend>;
}

async function relaxedThreads(): Promise<WebAssembly.Module> {
  const module = await loadRelaxedWasmThreadsModuleFromDisk();
  if (!module) throw new Error('build/edgeseek-relaxed-threads.wasm does not compile on this runtime');
  return module;
}

export function testBackends(): TestBackend[] {
  return [
    { name: 'cpu (plain SIMD, f32 activations)', activations: 'f32', create: async () => createCpuBackend(await kernelModule('plain'), { activations: 'f32' }) },
    { name: 'cpu (relaxed SIMD, f32 activations)', activations: 'f32', create: async () => createCpuBackend(await kernelModule('relaxed'), { activations: 'f32' }) },
    // The default mode of quantized weights, in both builds (the relaxed one runs Q4_0 decode on byte planes).
    { name: 'cpu (plain SIMD, int16 activations)', activations: 'int16', create: async () => createCpuBackend(await kernelModule('plain')) },
    { name: 'cpu (relaxed SIMD, int16 activations)', activations: 'int16', create: async () => createCpuBackend(await kernelModule('relaxed')) },
    // A tiny weight budget per Wasm memory: every weight lands in a memory of its own, so ops must work across them.
    {
      name: 'cpu (sharded memories, int16 activations)', activations: 'int16',
      create: async () => createCpuBackend(await kernelModule('relaxed'), { shardWeightBytes: 4096 }),
    },
    // The shared-memory builds over a main thread + 2 workers, every matmul split by rows however small.
    {
      name: 'cpu (plain SIMD, 3 threads, f32 activations)', activations: 'f32',
      create: async () => createCpuBackend(await kernelModule('plain'), {
        threads: 3, threadsModule: await loadWasmThreadsModuleFromDisk(), parallelMinMacs: 0, activations: 'f32',
      }),
    },
    {
      name: 'cpu (relaxed SIMD, 3 threads, int16 activations)', activations: 'int16',
      create: async () => createCpuBackend(await kernelModule('relaxed'), {
        threads: 3, threadsModule: await relaxedThreads(), parallelMinMacs: 0,
      }),
    },
    ...(NO_GPU ? [] : [
      { name: 'webgpu', activations: 'f32' as const, create: () => webgpuBackend() },
      // Weights split into 8 KiB buffers (whole rows / experts), as weights past maxStorageBufferBindingSize are.
      { name: 'webgpu (weights split into 8 KiB parts)', activations: 'f32' as const, create: () => webgpuBackend({ maxPartBytes: 8192 }) },
    ]),
  ];
}
