// Loads a checkpoint onto a backend and runs sequences through the forward
// pass. Prompts are prefilled in chunks so scratch memory stays bounded.
import type { Backend, LatentCache } from '../backend/backend.ts';
import { createBackend, type BackendKind } from '../backend/create-backend.ts';
import type { ActivationMode } from '../backend/cpu/integer-kernels.ts';
import type { KernelModules, SimdChoice } from '../backend/cpu/kernel-build.ts';
import { openCheckpoint } from '../model/checkpoint.ts';
import { loadWeights, type ModelWeights, type QuantizeMode } from '../model/load-weights.ts';
import type { ModelSource } from '../model/source.ts';
import { ForwardPass } from './forward.ts';
import type { ModelRunner, Sequence } from './runner-types.ts';
import type { ModelConfig } from '../model/config.ts';

export interface RunnerOptions {
  /** A backend instance, or which kind to create (default 'cpu'). */
  backend?: Backend | BackendKind;
  /** The compiled Wasm kernels: needed to create a backend (Workers import them; Node: loadKernelModulesFromDisk). */
  wasmModule?: WebAssembly.Module | KernelModules;
  /** CPU kernels: 'auto' (relaxed SIMD where its self-test passes), 'relaxed' or 'plain'. */
  simd?: SimdChoice;
  /** WebGPU entry point for 'webgpu' / 'auto' where there is no navigator.gpu. */
  gpu?: GPU;
  /** CPU backend: weight bytes per Wasm memory. */
  shardWeightBytes?: number;
  /** CPU backend: threads (Node), with the shared-memory build of the module. */
  threads?: number;
  threadsModule?: WebAssembly.Module;
  parallelMinMacs?: number;
  /** CPU backend: activations of Q8_0/Q4_0 matmuls; default 'int16' (integer kernels), 'f32' exact (see CpuBackendOptions). */
  activations?: ActivationMode;
  quantize?: QuantizeMode;
  /** Check every weight for NaN/Inf while loading (llama.cpp's --check-tensors). */
  checkTensors?: boolean;
  /** Largest number of tokens one forward step processes (prefill is chunked). Default 128. */
  maxBatch?: number;
  onProgress?: (loaded: number, total: number, tensor: string) => void;
}

interface RunnerSequence extends Sequence {
  length: number;
  cache: LatentCache;
  released: boolean;
}

export async function loadModelRunner(source: ModelSource, options?: RunnerOptions): Promise<ModelRunner>;
export async function loadModelRunner(source: ModelSource, backend: Backend, options?: RunnerOptions): Promise<ModelRunner>;
export async function loadModelRunner(source: ModelSource, second: Backend | RunnerOptions = {}, third: RunnerOptions = {}): Promise<ModelRunner> {
  const options: RunnerOptions = 'uploadWeight' in second ? { ...third, backend: second } : second;
  const checkpoint = await openCheckpoint(source);
  const backend = await resolveBackend(options);
  try {
    const weights = await loadWeights(checkpoint, backend, options);
    return new Runner(checkpoint.config, backend, weights, options.maxBatch ?? 128);
  } catch (error) {
    if (typeof options.backend !== 'object') backend.dispose();
    throw error;
  }
}

async function resolveBackend(options: RunnerOptions): Promise<Backend> {
  if (typeof options.backend === 'object') return options.backend;
  const kind = options.backend ?? 'cpu';
  if (!options.wasmModule) throw new Error(`backend ${kind}: options.wasmModule (the compiled Wasm kernels) is required`);
  return createBackend(kind, {
    wasmModule: options.wasmModule, simd: options.simd, gpu: options.gpu, shardWeightBytes: options.shardWeightBytes,
    threads: options.threads, threadsModule: options.threadsModule, parallelMinMacs: options.parallelMinMacs,
    activations: options.activations,
  });
}

function decodeBytes(config: ModelConfig, weights: ModelWeights): number {
  const routed = new Set<object>();
  let bytes = 0;
  for (const layer of weights.layers) {
    if (layer.ffn.kind !== 'moe') continue;
    for (const w of [layer.ffn.experts.gate, layer.ffn.experts.up, layer.ffn.experts.down]) {
      routed.add(w);
      bytes += (w.byteLength * config.numExpertsPerTok) / config.nRoutedExperts;
    }
  }
  for (const w of new Set(weights.all)) {
    if (routed.has(w)) continue;
    // The embedding is gathered one row per token, unless it doubles as lm_head.
    bytes += w === weights.embed && weights.lmHead !== weights.embed ? w.byteLength / config.vocabSize : w.byteLength;
  }
  return bytes;
}

class Runner implements ModelRunner {
  readonly weightBytes: number;
  readonly kvBytesPerToken: number;
  readonly decodeWeightBytes: number;
  readonly activations: string;
  private readonly forwardPass: ForwardPass;
  private readonly width: number;

  constructor(readonly config: ModelConfig, readonly backend: Backend, private readonly weights: ModelWeights, private readonly maxBatch: number) {
    this.forwardPass = new ForwardPass(config, backend, weights);
    this.width = config.kvLoraRank + config.qkRopeHeadDim;
    this.kvBytesPerToken = config.numLayers * this.width * 4;
    const seen = new Set(weights.all);
    this.weightBytes = [...seen].reduce((a, w) => a + w.byteLength, 0);
    this.decodeWeightBytes = decodeBytes(config, weights);
    const modes = new Set([...seen].map((w) => backend.matmulActivations?.(w.dtype) ?? 'f32'));
    this.activations = [...modes].find((m) => m !== 'f32') ?? 'f32';
  }

  newSequence(capacity: number): Sequence {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`sequence capacity must be a positive integer, got ${capacity}`);
    if (capacity > this.config.maxPositionEmbeddings) {
      throw new RangeError(`sequence capacity ${capacity} exceeds the model's context (${this.config.maxPositionEmbeddings})`);
    }
    const cache = this.backend.createLatentCache(this.config.numLayers, capacity, this.width);
    const seq: RunnerSequence = { length: 0, capacity, cacheBytes: cache.byteLength, cache, released: false };
    return seq;
  }

  async forward(sequence: Sequence, ids: readonly number[], options: { allLogits?: boolean } = {}): Promise<Float32Array> {
    const seq = sequence as RunnerSequence;
    if (seq.released) throw new Error('forward on a released sequence');
    if (ids.length === 0) throw new RangeError('forward needs at least one token');
    if (seq.length + ids.length > seq.capacity) {
      throw new RangeError(`sequence of ${seq.length} tokens cannot take ${ids.length} more (capacity ${seq.capacity})`);
    }
    const vocab = this.config.vocabSize;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new RangeError(`token id ${id} is outside the vocabulary (0..${vocab - 1})`);
    }
    const all = options.allLogits ? new Float32Array(ids.length * vocab) : undefined;
    let last: Float32Array | undefined;
    for (let start = 0; start < ids.length; start += this.maxBatch) {
      const chunk = ids.slice(start, start + this.maxBatch);
      const isLast = start + chunk.length === ids.length;
      const logits = await this.forwardPass.run(seq.cache, seq.length, chunk, all ? 'all' : isLast ? 'last' : 'none');
      seq.length += chunk.length;
      if (all) all.set(logits!, start * vocab);
      else if (isLast) last = logits;
    }
    return all ?? last!;
  }

  release(sequence: Sequence): void {
    const seq = sequence as RunnerSequence;
    if (seq.released) return;
    seq.released = true;
    this.backend.release(seq.cache);
  }

  dispose(): void {
    this.forwardPass.dispose();
    for (const w of new Set(this.weights.all)) this.backend.release(w);
    this.backend.dispose();
  }
}
