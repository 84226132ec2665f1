// The model a CLI command works on: --model (default: the bundled model) on
// --backend, with the CPU backend options every model command takes.
import type { BackendKind } from '../backend/create-backend.ts';
import { ACTIVATION_MODES, type ActivationMode } from '../backend/cpu/integer-kernels.ts';
import { SIMD_CHOICES, type SimdChoice } from '../backend/cpu/kernel-build.ts';
import { loadKernelModulesFromDisk } from '../backend/cpu/wasm-module-node.ts';
import { loadModelRunner } from '../engine/runner.ts';
import type { ModelRunner } from '../engine/runner-types.ts';
import { QUANTIZE_MODES, type QuantizeMode } from '../model/load-weights.ts';
import { fsSource } from '../model/source-fs.ts';
import { Args, CliError } from './args.ts';
import { defaultModelPath } from './package-root.ts';
import { nodeGpu } from '../backend/webgpu/node-gpu.ts';

/** Options of every command that loads a model (logits, generate, serve, bench). */
export const BACKEND_OPTIONS = ['backend', 'quantize', 'activations', 'threads', 'simd'] as const;
/** The options openRunnerFromArgs reads. */
export const RUNNER_OPTIONS = ['model', ...BACKEND_OPTIONS, 'shard-bytes', 'check-tensors'] as const;

export interface BackendArgs {
  backend: BackendKind;
  quantize?: QuantizeMode;
  activations?: ActivationMode;
  threads: number;
  simd?: SimdChoice;
}

/** --backend, --quantize, --activations f32|int16, --threads N, --simd auto|relaxed|plain, checked. */
export function backendArgs(args: Args): BackendArgs {
  const backend = (args.string('backend') ?? 'cpu') as BackendKind;
  if (!['cpu', 'webgpu', 'auto'].includes(backend)) throw new CliError(`--backend must be cpu, webgpu or auto, got '${backend}'`);
  const activations = args.string('activations') as ActivationMode | undefined;
  if (activations !== undefined && !ACTIVATION_MODES.includes(activations)) {
    throw new CliError(`--activations must be ${ACTIVATION_MODES.join(' or ')}, got '${activations}'`);
  }
  const simd = args.string('simd') as SimdChoice | undefined;
  if (simd !== undefined && !SIMD_CHOICES.includes(simd)) throw new CliError(`--simd must be ${SIMD_CHOICES.join(', ')}, got '${simd}'`);
  const quantize = args.string('quantize') as QuantizeMode | undefined;
  if (quantize !== undefined && !QUANTIZE_MODES.includes(quantize)) throw new CliError(`--quantize must be one of ${QUANTIZE_MODES.join(', ')}, got '${quantize}'`);
  return { backend, quantize, activations, threads: args.integer('threads', 1, 1), simd };
}

export async function openRunnerFromArgs(args: Args, options: { maxBatch?: number } = {}): Promise<ModelRunner> {
  const { backend, quantize, activations, threads, simd } = backendArgs(args);
  return loadModelRunner(await fsSource(args.string('model') ?? defaultModelPath()), {
    backend,
    wasmModule: await loadKernelModulesFromDisk({ threads: threads > 1 }),
    simd,
    gpu: backend === 'cpu' ? undefined : await nodeGpu(),
    shardWeightBytes: args.number('shard-bytes'),
    threads,
    activations,
    quantize,
    checkTensors: args.flag('check-tensors'),
    maxBatch: options.maxBatch,
  });
}
