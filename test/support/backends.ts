// The backends every op test runs on: the CPU backend in its modes, and the
// WebGPU backend (Dawn on Mesa llvmpipe under Node) unless
// EDGESEEK_NO_GPU_TESTS=1 says this machine has no GPU stack.
import type { Backend } from '../../src/backend/backend.ts';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk, loadWasmThreadsModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { NO_GPU, webgpuBackend } from '../webgpu/gpu-backend.ts';

export interface TestBackend {
  readonly name: string;
  create(): Promise<Backend>;
}

export function testBackends(): TestBackend[] {
  return [
    { name: 'cpu', create: async () => createCpuBackend(await loadWasmModuleFromDisk()) },
    // A tiny weight budget per Wasm memory: every weight lands in a memory of its own, so ops must work across them.
    { name: 'cpu (sharded memories)', create: async () => createCpuBackend(await loadWasmModuleFromDisk(), { shardWeightBytes: 4096 }) },
    // The shared-memory build over a main thread + 2 workers, every matmul split by rows however small.
    {
      name: 'cpu (3 threads)',
      create: async () => createCpuBackend(await loadWasmModuleFromDisk(), {
        threads: 3, threadsModule: await loadWasmThreadsModuleFromDisk(), parallelMinMacs: 0,
      }),
    },
    ...(NO_GPU ? [] : [
      { name: 'webgpu', create: () => webgpuBackend() },
      // Weights split into 8 KiB buffers (whole rows / experts), as weights past maxStorageBufferBindingSize are.
      { name: 'webgpu (weights split into 8 KiB parts)', create: () => webgpuBackend({ maxPartBytes: 8192 }) },
    ]),
  ];
}
