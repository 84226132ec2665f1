// The model a CLI command works on: --model (default: the bundled model) on --backend.
import type { BackendKind } from '../backend/create-backend.ts';
import { loadWasmModuleFromDisk, loadWasmThreadsModuleFromDisk } from '../backend/cpu/wasm-module-node.ts';
import { loadModelRunner } from '../engine/runner.ts';
import type { ModelRunner } from '../engine/runner-types.ts';
import { QUANTIZE_MODES, type QuantizeMode } from '../model/load-weights.ts';
import { fsSource } from '../model/source-fs.ts';
import { Args, CliError } from './args.ts';
import { defaultModelPath } from './package-root.ts';
import { nodeGpu } from '../backend/webgpu/node-gpu.ts';

/** The backend options every command that runs a model reads (backendOptionsFromArgs). */
export const BACKEND_OPTIONS = ['backend', 'quantize', 'activations', 'threads'] as const;
/** The options openRunnerFromArgs reads. */
export const RUNNER_OPTIONS = ['model', ...BACKEND_OPTIONS, 'shard-bytes', 'check-tensors'] as const;

export interface BackendArgs {
  backend: BackendKind;
  quantize?: QuantizeMode;
  activations: 'f32' | 'int16';
  threads?: number;
}

/** --backend, --quantize, --activations and --threads, checked. */
export function backendOptionsFromArgs(args: Args): BackendArgs {
  const backend = (args.string('backend') ?? 'cpu') as BackendKind;
  if (!['cpu', 'webgpu', 'auto'].includes(backend)) throw new CliError(`--backend must be cpu, webgpu or auto, got '${backend}'`);
  const quantize = args.string('quantize') as QuantizeMode | undefined;
  if (quantize !== undefined && !QUANTIZE_MODES.includes(quantize)) throw new CliError(`--quantize must be one of ${QUANTIZE_MODES.join(', ')}, got '${quantize}'`);
  const activations = args.string('activations') ?? 'f32';
  if (activations !== 'f32' && activations !== 'int16') throw new CliError(`--activations must be f32 or int16, got '${activations}'`);
  return { backend, quantize, activations, threads: args.integer('threads', 1, 1) };
}

export async function openRunnerFromArgs(args: Args, options: { maxBatch?: number } = {}): Promise<ModelRunner> {
  const { backend, quantize, activations } = backendOptionsFromArgs(args);
  return loadModelRunner(await fsSource(args.string('model') ?? defaultModelPath()), {
    backend,
    wasmModule: await loadWasmModuleFromDisk(),
    gpu: backend === 'cpu' ? undefined : await nodeGpu(),
    shardWeightBytes: args.number('shard-bytes'),
    threads: args.number('threads'),
    threadsModule: (args.number('threads') ?? 1) > 1 ? await loadWasmThreadsModuleFromDisk() : undefined,
    activations,
    quantize,
    checkTensors: args.flag('check-tensors'),
    maxBatch: options.maxBatch,
  });
}
