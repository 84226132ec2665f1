// createEngine: load a model (weights onto a backend, tokenizer beside it) and
// serve generate() requests through one scheduler. See design.md "The engine".
import type { BackendKind } from '../backend/create-backend.ts';
import type { ActivationMode } from '../backend/cpu/integer-kernels.ts';
import type { KernelModules, SimdChoice } from '../backend/cpu/kernel-build.ts';
import type { QuantizeMode } from '../model/load-weights.ts';
import type { ModelSource } from '../model/source.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { prepare, runGeneration, type GenerationContext } from './generate.ts';
import type { ModelRunner } from './runner-types.ts';
import { Scheduler } from './scheduler.ts';
import type { Engine, GenerateEvent, GenerateRequest, ModelInfo } from './types.ts';

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
  /** Latent-cache bytes all running requests may reserve together. Default 256 MiB. */
  cacheBudgetBytes?: number;
  /** Requests that may wait for cache budget before new ones get BusyError. Default 16. */
  maxQueue?: number;
  /** Prompt tokens one forward step takes before other requests get a turn. Default 128. */
  prefillChunk?: number;
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

export const DEFAULT_CACHE_BUDGET_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_QUEUE = 16;

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const source = await resolveSource(options.model);
  const threads = options.threads ?? 1;
  const wasmModule = options.wasmModule
    ?? await (await import('../backend/cpu/wasm-module-node.ts')).loadKernelModulesFromDisk({ threads: threads > 1 });
  const { createBackend, plainModuleOf } = await import('../backend/create-backend.ts');
  const { loadModelRunner } = await import('./runner.ts');
  const { loadTokenizer } = await import('../tokenizer/load.ts');
  const backend = await createBackend(options.backend ?? 'cpu', {
    wasmModule, simd: options.simd, gpu: options.gpu, threads, threadsModule: options.threadsModule, activations: options.activations,
  });
  const progress = options.onProgress;
  const runner = await loadModelRunner(source, backend, {
    quantize: options.quantize,
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

/** An engine over an already loaded runner and tokenizer (createEngine's second half; tests use it too). */
export function engineFromParts(runner: ModelRunner, tokenizer: Tokenizer, options: Omit<EngineOptions, 'model'> = {}): Engine {
  const modelContext = runner.config.maxPositionEmbeddings;
  const contextLength = Math.min(options.contextLength ?? modelContext, modelContext);
  const scheduler = new Scheduler({
    cacheBudgetBytes: options.cacheBudgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES,
    maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
  });
  const ctx: GenerationContext = {
    runner, tokenizer, scheduler, contextLength, prefillChunk: options.prefillChunk ?? 128, specialTokensInContent: options.specialTokensInContent,
  };
  const model: ModelInfo = {
    id: options.modelId ?? 'edgeseek',
    contextLength,
    vocabSize: runner.config.vocabSize,
    backend: runner.backend.name,
    ...(runner.backend.threads !== undefined ? { threads: runner.backend.threads } : {}),
    activations: runner.activations,
    ...(runner.backend.kernelBuild ? { kernels: runner.backend.kernelBuild } : {}),
  };
  let disposed = false;
  return {
    model,
    get cacheBytesInUse() { return scheduler.cacheBytesInUse; },
    get cacheBudgetBytes() { return scheduler.cacheBudgetBytes; },
    get queued() { return scheduler.queued; },
    generate(request: GenerateRequest): AsyncIterable<GenerateEvent> {
      return {
        [Symbol.asyncIterator]: () => {
          // Validation errors surface at the first next(), before any cache is reserved.
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
      // Running steps finish their current token, then fail with EngineClosedError.
      await scheduler.idle();
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
