// Loads a checkpoint onto a backend and runs forward steps over the paged
// latent cache: rows of many sequences with their block tables (the engine's
// batches), or one sequence on its own (prompts prefilled in chunks so
// scratch memory stays bounded). The backend's cache grows as block ids are
// first used, up to the cache budget.
import type { Backend, LatentCache } from '../backend/backend.ts';
import { createBackend, type BackendKind } from '../backend/create-backend.ts';
import type { ActivationMode } from '../backend/cpu/integer-kernels.ts';
import type { KernelModules, SimdChoice } from '../backend/cpu/kernel-build.ts';
import { openCheckpoint } from '../model/checkpoint.ts';
import { loadWeights, type ModelWeights, type QuantizeMode } from '../model/load-weights.ts';
import type { ModelSource } from '../model/source.ts';
import { BlockPool } from './block-pool.ts';
import { ForwardPass, type StepRows } from './forward.ts';
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
  /** CPU backend: activations of Q8_0/Q4_0/Q4_K/Q6_K matmuls; default 'int16' (integer kernels), 'f32' exact (see CpuBackendOptions). */
  activations?: ActivationMode;
  quantize?: QuantizeMode;
  /** Check every weight for NaN/Inf while loading (llama.cpp's --check-tensors). */
  checkTensors?: boolean;
  /** Largest number of tokens one forward step of newSequence/forward processes (prefill is chunked). Default 128. */
  maxBatch?: number;
  /** Latent-cache bytes all sequences may hold together (default 256 MiB). */
  cacheBudgetBytes?: number;
  /** Positions per latent-cache block (default 16). */
  blockSize?: number;
  onProgress?: (loaded: number, total: number, tensor: string) => void;
}

export const DEFAULT_CACHE_BUDGET_BYTES = 256 * 1024 * 1024;
export const DEFAULT_BLOCK_SIZE = 16;

interface RunnerSequence extends Sequence {
  length: number;
  table: number[];
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
    return new Runner(checkpoint.config, backend, weights, options);
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
  readonly blockSize: number;
  readonly blocks: BlockPool;
  private readonly forwardPass: ForwardPass;
  private readonly cache: LatentCache;
  private readonly maxBatch: number;

  constructor(readonly config: ModelConfig, readonly backend: Backend, private readonly weights: ModelWeights, options: RunnerOptions) {
    this.forwardPass = new ForwardPass(config, backend, weights);
    const width = config.kvLoraRank + config.qkRopeHeadDim;
    this.kvBytesPerToken = config.numLayers * width * 4;
    const seen = new Set(weights.all);
    this.weightBytes = [...seen].reduce((a, w) => a + w.byteLength, 0);
    this.decodeWeightBytes = decodeBytes(config, weights);
    const modes = new Set([...seen].map((w) => backend.matmulActivations?.(w.dtype) ?? 'f32'));
    this.activations = [...modes].find((m) => m !== 'f32') ?? 'f32';
    this.maxBatch = options.maxBatch ?? 128;
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.cache = backend.createLatentCache(config.numLayers, this.blockSize, width);
    this.blocks = new BlockPool(this.budgetBlocks(options.cacheBudgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES));
  }

  get cacheBudgetBytes(): number { return this.blocks.capacity * this.blockBytes; }

  setCacheBudget(bytes: number): void {
    this.blocks.setCapacity(this.budgetBlocks(bytes));
  }

  private get blockBytes(): number { return this.blockSize * this.kvBytesPerToken; }

  private budgetBlocks(bytes: number): number {
    if (!(bytes > 0)) throw new RangeError(`cache budget must be a positive number of bytes, got ${bytes}`);
    return Math.max(1, Math.min(Math.floor(bytes / this.blockBytes), this.cache.maxBlocks));
  }

  async step(rows: StepRows): Promise<Float32Array> {
    const T = rows.ids.length;
    if (T === 0) throw new RangeError('a forward step needs at least one row');
    if (rows.positions.length !== T || rows.tableStart.length !== T) {
      throw new RangeError(`a step of ${T} tokens has ${rows.positions.length} positions and ${rows.tableStart.length} table starts`);
    }
    const vocab = this.config.vocabSize;
    for (const id of rows.ids) {
      if (!(id >= 0 && id < vocab)) throw new RangeError(`token id ${id} is outside the vocabulary (0..${vocab - 1})`);
    }
    for (const p of rows.positions) {
      if (!(p >= 0 && p < this.config.maxPositionEmbeddings)) throw new RangeError(`position ${p} is outside the model's context (${this.config.maxPositionEmbeddings})`);
    }
    for (const r of rows.logitRows) if (!(r >= 0 && r < T)) throw new RangeError(`logit row ${r} of a step of ${T} rows`);
    let top = 0;
    for (const id of rows.blocks) {
      if (!(id >= 0 && id < this.blocks.capacity)) throw new RangeError(`block ${id} is outside the latent cache (${this.blocks.capacity} blocks)`);
      top = Math.max(top, id + 1);
    }
    // Memory follows the ids in use: grow by doubling (a GPU grow copies the cache), never past the budget.
    if (top > this.cache.blocks) {
      this.backend.growLatentCache(this.cache, Math.min(this.blocks.capacity, Math.max(top, 2 * this.cache.blocks, 32)));
    }
    return (await this.forwardPass.run(this.cache, rows)) ?? new Float32Array(0);
  }

  newSequence(capacity: number): Sequence {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`sequence capacity must be a positive integer, got ${capacity}`);
    if (capacity > this.config.maxPositionEmbeddings) {
      throw new RangeError(`sequence capacity ${capacity} exceeds the model's context (${this.config.maxPositionEmbeddings})`);
    }
    const needed = Math.ceil(capacity / this.blockSize);
    const table = this.blocks.allocate(needed);
    if (!table) {
      throw new RangeError(`a sequence of ${capacity} positions needs ${needed} latent-cache blocks; ${this.blocks.available} of the budget's ${this.blocks.capacity} are free`);
    }
    const seq: RunnerSequence = { length: 0, capacity, cacheBytes: needed * this.blockBytes, table, released: false };
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
    const all = options.allLogits ? new Float32Array(ids.length * vocab) : undefined;
    let last: Float32Array | undefined;
    const blocks = Int32Array.from(seq.table);
    for (let start = 0; start < ids.length; start += this.maxBatch) {
      const T = Math.min(this.maxBatch, ids.length - start);
      const isLast = start + T === ids.length;
      const logitRows = all ? Int32Array.from({ length: T }, (_, t) => t) : Int32Array.of(...(isLast ? [T - 1] : []));
      const logits = await this.step({
        ids: Int32Array.from(ids.slice(start, start + T)),
        positions: Int32Array.from({ length: T }, (_, t) => seq.length + t),
        tableStart: new Int32Array(T),
        blocks,
        logitRows,
      });
      seq.length += T;
      if (all) all.set(logits, start * vocab);
      else if (isLast) last = logits;
    }
    return all ?? last!;
  }

  release(sequence: Sequence): void {
    const seq = sequence as RunnerSequence;
    if (seq.released) return;
    seq.released = true;
    this.blocks.release([...seq.table].reverse());
  }

  dispose(): void {
    this.forwardPass.dispose();
    this.backend.release(this.cache);
    for (const w of new Set(this.weights.all)) this.backend.release(w);
    this.backend.dispose();
  }
}
