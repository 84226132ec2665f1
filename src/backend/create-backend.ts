// Backend selection for `--backend cpu|webgpu|auto` and createEngine.
import type { Backend } from './backend.ts';
import { createCpuBackend, type CpuBackendOptions } from './cpu/cpu-backend.ts';
import { selectKernels, type KernelModules, type SimdChoice } from './cpu/kernel-build.ts';

export type BackendKind = 'cpu' | 'webgpu' | 'auto';

export interface CreateBackendOptions extends CpuBackendOptions {
  /**
   * The compiled Wasm kernels: the set of builds (Workers import them, src/wasm.ts;
   * Node/Deno: loadKernelModulesFromDisk), from which the relaxed-SIMD build is
   * picked where its self-test passes, or one module run as it is.
   */
  wasmModule: WebAssembly.Module | KernelModules;
  /** CPU kernels: 'auto' (default), or force 'relaxed' / 'plain' SIMD (kernel-build.ts). */
  simd?: SimdChoice;
  /** A WebGPU entry point (navigator.gpu, or npm `webgpu`'s create() in Node). */
  gpu?: GPU;
}

/** The plain-SIMD module of a set (what the tokenizer and the WebGPU backend's host code run). */
export function plainModuleOf(modules: WebAssembly.Module | KernelModules): WebAssembly.Module {
  return modules instanceof WebAssembly.Module ? modules : modules.plain;
}

async function createCpu(options: CreateBackendOptions): Promise<Backend> {
  const picked = await selectKernels(options.wasmModule, options.simd);
  return createCpuBackend(picked.module, { ...options, threadsModule: options.threadsModule ?? picked.threadsModule });
}

export async function createBackend(kind: BackendKind, options: CreateBackendOptions): Promise<Backend> {
  if (kind !== 'cpu' && kind !== 'webgpu' && kind !== 'auto') {
    throw new Error(`unknown backend '${String(kind)}' (cpu, webgpu or auto)`);
  }
  if (kind === 'cpu') return createCpu(options);
  const { createWebGpuBackend } = await import('./webgpu/webgpu-backend.ts');
  const gpu = options.gpu ?? (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) {
    if (kind === 'auto') return createCpu(options);
    throw new Error('backend webgpu: no WebGPU in this runtime (no navigator.gpu and no GPU object given)');
  }
  try {
    return await createWebGpuBackend(gpu, { wasmModule: plainModuleOf(options.wasmModule) });
  } catch (error) {
    if (kind === 'auto') return createCpu(options);
    throw error;
  }
}
