import type { BackendKind } from '../../src/backend/create-backend.ts';
import { loadKernelModulesFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { loadModelRunner, type RunnerOptions } from '../../src/engine/runner.ts';
import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { nodeGpu } from './gpu.ts';

/** A model on a backend as the CLI opens it: every kernel build this runtime compiles, the SIMD one picked by `simd` (default auto). */
export async function openRunner(
  modelPath: string,
  options: RunnerOptions & { backend?: Exclude<BackendKind, 'auto'>; shardWeightBytes?: number } = {},
): Promise<ModelRunner> {
  const kind = options.backend ?? 'cpu';
  return loadModelRunner(await fsSource(modelPath), {
    ...options,
    backend: kind,
    wasmModule: options.wasmModule ?? await loadKernelModulesFromDisk({ threads: (options.threads ?? 1) > 1 }),
    gpu: kind === 'webgpu' ? await nodeGpu() : undefined,
  });
}
