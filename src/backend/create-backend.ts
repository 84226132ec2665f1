// Backend selection for `--backend cpu|webgpu|auto` and createEngine.
import type { Backend } from './backend.ts';
import { createCpuBackend, type CpuBackendOptions } from './cpu/cpu-backend.ts';

export type BackendKind = 'cpu' | 'webgpu' | 'auto';

export interface CreateBackendOptions extends CpuBackendOptions {
  /** build/edgeseek.wasm, compiled (Workers import it; Node/Deno read it from disk). */
  wasmModule: WebAssembly.Module;
  /** A WebGPU entry point (navigator.gpu, or npm `webgpu`'s create() in Node). */
  gpu?: GPU;
}

export async function createBackend(kind: BackendKind, options: CreateBackendOptions): Promise<Backend> {
  if (kind !== 'cpu' && kind !== 'webgpu' && kind !== 'auto') {
    throw new Error(`unknown backend '${String(kind)}' (cpu, webgpu or auto)`);
  }
  if (kind === 'cpu') return createCpuBackend(options.wasmModule, options);
  const { createWebGpuBackend } = await import('./webgpu/webgpu-backend.ts');
  const gpu = options.gpu ?? (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) {
    if (kind === 'auto') return createCpuBackend(options.wasmModule, options);
    throw new Error('backend webgpu: no WebGPU in this runtime (no navigator.gpu and no GPU object given)');
  }
  try {
    return await createWebGpuBackend(gpu, { wasmModule: options.wasmModule });
  } catch (error) {
    if (kind === 'auto') return createCpuBackend(options.wasmModule, options);
    throw error;
  }
}
