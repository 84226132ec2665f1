// createEngine: load a model (weights onto a backend, tokenizer beside it) and
// serve generate() requests through one scheduler that batches every request
// into each forward step. See design.md "The engine" and "Serving many users".
import type { BackendKind } from '../backend/create-backend.ts';
import type { ActivationMode } from '../backend/cpu/integer-kernels.ts';
import type { KernelModules, SimdChoice } from '../backend/cpu/kernel-build.ts';
import type { QuantizeMode } from '../model/load-weights.ts';
import type { ModelSource } from '../model/source.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { prepare, runGeneration, type GenerationContext } from './generate.ts';
import { LatentCacheManager } from './latent-cache-manager.ts';
import type { ModelRunner } from './runner-types.ts';
import { Scheduler } from './scheduler.ts';
import type { Engine, EngineLoad, GenerateEvent, GenerateRequest, ModelInfo } from './types.ts';

export interface LoadProgress {
  /**
   * 'download' while a page fetches the model files (loaded/total in bytes,
   * with file, filesLoaded, filesTotal and fromCache), 'weights' while tensors
   * load (loaded/total in tensors), 'tokenizer', then 'ready'.
   */
  stage: 'download' | 'weights' | 'tokenizer' | 'ready';
  loaded: number;
  total: number;
  tensor?: string;
  file?: string;
  filesLoaded?: number;
  filesTotal?: number;
  /** download: the bytes of `loaded` that came from the page's cache. */
  fromCache?: number;
}

export interface EngineOptions {
  /** A ModelSource, or a path (Node/Deno: directory or .gguf file) or an http(s) URL of a model directory. */
  model: ModelSource | string;
  backend?: BackendKind;
  /**
   * The compiled Wasm kernels: the builds as `import { kernelModules } from 'edgeseek/wasm'`
   * gives them (relaxed SIMD where its self-test passes, else plain), or one module.
   * Read from the package on Node/Deno when omitted.
   */
  wasmModule?: WebAssembly.Module | KernelModules;
  /** CPU kernels: 'auto' (default), or force 'relaxed' / 'plain' SIMD. */
  simd?: SimdChoice;
  /** Activations of quantized matmuls: default 'int16' (integer kernels), 'f32' for the exact path. */
  activations?: ActivationMode;
  /** A WebGPU entry point when it is not navigator.gpu. */
  gpu?: GPU;
  /** cpu backend: threads for matmuls and attention (default 1); above 1 needs the threads build, read like wasmModule when omitted. */
  threads?: number;
  threadsModule?: WebAssembly.Module;
  quantize?: QuantizeMode;
  /** The name /v1/models reports and requests must use. Default: the model's directory name. */
  modelId?: string;
  /** Cap the context below the model's max_position_embeddings. */
  contextLength?: number;
  /** Latent-cache bytes for all requests together, cached prompt prefixes included. Default 256 MiB. */
  cacheBudgetBytes?: number;
  /** Positions per latent-cache block. Default 16. */
  blockSize?: number;
  /** Requests that may wait for cache blocks before new ones get BusyError. Default 16. */
  maxQueue?: number;
  /**
   * The most rows one forward step takes: a decode row per running request,
   * then prompt chunks — the whole rest when nothing decodes, else only as
   * many as keep a step within 1.5× a decode-only step's time (a long prompt
   * is spread over steps so running streams keep their pace). Default 128.
   */
  stepTokens?: number;
  /**
   * Let chat message content contain control tokens ("<｜User｜>" typed by a user
   * becomes the role marker). Default false: content is plain text, as OpenAI
   * treats it, and only the chat template's own markers are control tokens.
   */
  specialTokensInContent?: boolean;
  /** Check every weight for NaN/Inf while loading (llama.cpp's --check-tensors); a bad one fails the load naming the tensor. */
  checkTensors?: boolean;
  onProgress?: (progress: LoadProgress) => void;
}

export { DEFAULT_CACHE_BUDGET_BYTES } from './runner.ts';
export const DEFAULT_MAX_QUEUE = 16;
export const DEFAULT_STEP_TOKENS = 128;

export async function createEngine(options: EngineOptions): Promise<Engine> {
  // Options often come from text (environment, Worker vars): a wrong one is named, not guessed at.
  for (const name of ['threads', 'stepTokens', 'blockSize', 'maxQueue'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= (name === 'maxQueue' ? 0 : 1))) {
      throw new Error(`engine option ${name} must be an integer ≥ ${name === 'maxQueue' ? 0 : 1}, got ${String(value)}`);
    }
  }
  const source = await resolveSource(options.model);
  const threads = options.threads ?? 1;
  const wasmModule = options.wasmModule
    ?? await (await import('../backend/cpu/wasm-module-node.ts')).loadKernelModulesFromDisk({ threads: threads > 1 });
  const { createBackend, plainModuleOf } = await import('../backend/create-backend.ts');
  const { loadModelRunner } = await import('./runner.ts');
  const { QUANTIZE_MODES } = await import('../model/load-weights.ts');
  if (options.quantize !== undefined && !QUANTIZE_MODES.includes(options.quantize)) {
    throw new Error(`engine option quantize must be one of ${QUANTIZE_MODES.join(', ')}, got '${String(options.quantize)}'`);
  }
  const { loadTokenizer } = await import('../tokenizer/load.ts');
  const backend = await createBackend(options.backend ?? 'cpu', {
    wasmModule, simd: options.simd, gpu: options.gpu, threads, threadsModule: options.threadsModule, activations: options.activations,
  });
  const progress = options.onProgress;
  const runner = await loadModelRunner(source, backend, {
    quantize: options.quantize,
    cacheBudgetBytes: options.cacheBudgetBytes,
    blockSize: options.blockSize,
    checkTensors: options.checkTensors,
    onProgress: progress && ((loaded, total, tensor) => progress({ stage: 'weights', loaded, total, tensor })),
  });
  try {
    progress?.({ stage: 'tokenizer', loaded: 0, total: 1 });
    const tokenizer = await loadTokenizer(source, { module: plainModuleOf(wasmModule) });
    progress?.({ stage: 'ready', loaded: 1, total: 1 });
    return engineFromParts(runner, tokenizer, { ...options, modelId: options.modelId ?? modelIdOf(source.label) });
  } catch (error) {
    runner.dispose();
    throw error;
  }
}

/**
 * An engine over an already loaded runner and tokenizer (createEngine's
 * second half; tests use it too). options.cacheBudgetBytes, when given,
 * replaces the runner's budget.
 */
export function engineFromParts(runner: ModelRunner, tokenizer: Tokenizer, options: Omit<EngineOptions, 'model'> = {}): Engine {
  const modelContext = runner.config.maxPositionEmbeddings;
  const contextLength = Math.min(options.contextLength ?? modelContext, modelContext);
  if (options.cacheBudgetBytes !== undefined && options.cacheBudgetBytes !== runner.cacheBudgetBytes) runner.setCacheBudget(options.cacheBudgetBytes);
  const cache = new LatentCacheManager(runner.blocks, runner.blockSize);
  const scheduler = new Scheduler(runner, cache, {
    stepTokens: options.stepTokens ?? DEFAULT_STEP_TOKENS,
    maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
  });
  const ctx: GenerationContext = { runner, tokenizer, scheduler, contextLength, specialTokensInContent: options.specialTokensInContent };
  const model: ModelInfo = {
    id: options.modelId ?? 'edgeseek',
    contextLength,
    vocabSize: runner.config.vocabSize,
    backend: runner.backend.name,
    ...(runner.backend.threads !== undefined ? { threads: runner.backend.threads } : {}),
    activations: runner.activations,
    ...(runner.backend.kernelBuild ? { kernels: runner.backend.kernelBuild } : {}),
  };
  const blockBytes = runner.blockSize * runner.kvBytesPerToken;
  const load = (): EngineLoad => ({
    running: scheduler.runningCount,
    waiting: scheduler.waitingCount,
    preemptions: scheduler.preemptions,
    cacheBlocksInUse: runner.blocks.inUse,
    cacheBytesInUse: runner.blocks.inUse * blockBytes,
    prefixCacheBlocks: runner.blocks.cachedFree,
    prefixCacheBytes: runner.blocks.cachedFree * blockBytes,
    cacheBlocks: runner.blocks.capacity,
    blockTokens: runner.blockSize,
    kvBytesPerToken: runner.kvBytesPerToken,
  });
  let disposed = false;
  return {
    model,
    get cacheBytesInUse() { return runner.blocks.inUse * blockBytes; },
    get cacheBudgetBytes() { return runner.cacheBudgetBytes; },
    get queued() { return scheduler.waitingCount; },
    load,
    generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
      return {
        [Symbol.asyncIterator]: () => {
          // Validation errors surface at the first next(), before the request is queued.
          let inner: AsyncGenerator<GenerateEvent> | undefined;
          const start = (): AsyncGenerator<GenerateEvent> => inner ??= runGeneration(ctx, request, prepare(ctx, request));
          return {
            next: () => { try { return start().next(); } catch (error) { return Promise.reject(error); } },
            return: async (value?: unknown) => inner ? inner.return(value as never) : { done: true, value: undefined },
          } as AsyncIterator<GenerateEvent>;
        },
      };
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      scheduler.close();
      // A step in flight finishes its rows; its sequences then end with EngineClosedError.
      while (scheduler.busy) await new Promise((resolve) => setTimeout(resolve, 1));
      tokenizer.dispose();
      runner.dispose();
    },
  };
}

/** A model option as a source: http(s) URLs fetched, anything else a path on disk (Node, Deno). */
export async function resolveSource(model: ModelSource | string): Promise<ModelSource> {
  if (typeof model !== 'string') return model;
  if (/^https?:\/\//.test(model)) {
    const { urlSource } = await import('../entries/fetch-source.ts');
    return urlSource(model);
  }
  const { fsSource } = await import('../model/source-fs.ts');
  return fsSource(model);
}

/** "models/default" → "default", "https://x/y/tiny-a/" → "tiny-a", "a/b.gguf" → "b". */
export function modelIdOf(label: string): string {
  const parts = label.replace(/[\\/]+$/, '').split(/[\\/]/);
  return (parts[parts.length - 1] || 'edgeseek').replace(/\.gguf$/i, '');
}
