// createEngine in a page: the engine of src/engine/engine.ts with what a page
// supplies by default. A model URL (absolute, or relative to the page) is
// downloaded with progress into the Cache API (cached-source.ts); the Wasm
// modules (plain and relaxed SIMD) come from next to the bundle (wasm-module.ts); the CPU backend runs
// on Web Workers over shared memory when the page is cross-origin isolated,
// on one thread otherwise; WebGPU is navigator.gpu, its shaders inlined.
import { createEngine as createEngineWith, type EngineOptions } from '../engine/engine.ts';
import type { Engine } from '../engine/types.ts';
import type { Fetcher } from '../entries/fetch-source.ts';
import type { ModelSource } from '../model/source.ts';
import { openModelUrl, pageUrl } from './cached-source.ts';
import { loadKernelModulesFromDisk } from './wasm-module.ts';

export interface BrowserEngineOptions extends Omit<EngineOptions, 'model'> {
  /** A model URL (a directory holding config.json + model.safetensors or model.gguf, or a .gguf file; relative to the page), or a ModelSource. */
  model: string | URL | ModelSource;
  /** The Cache API cache that keeps the model files ('edgeseek-models'); false downloads them for this load only. */
  cache?: string | false;
  /** fetch for the model files (to send credentials or an API key). */
  fetch?: Fetcher;
}

/** Threads a page gets by default: one per core (up to 8) when cross-origin isolated, else 1. */
export function defaultThreads(): number {
  if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) return 1;
  return Math.max(1, Math.min(8, globalThis.navigator?.hardwareConcurrency ?? 1));
}

export async function createEngine(options: BrowserEngineOptions): Promise<Engine> {
  const { model, cache, fetch, ...rest } = options;
  const threads = options.threads ?? defaultThreads();
  if (threads > 1 && !(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    throw new Error(`threads: ${threads} needs shared memory, which a page has only when cross-origin isolated `
      + '(served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)');
  }
  const progress = options.onProgress;
  const source = typeof model === 'string' || model instanceof URL
    ? await openModelUrl(pageUrl(model), {
      cache, fetch,
      onProgress: progress && ((p) => progress({ stage: 'download', loaded: p.loaded, total: p.total, file: p.file, filesLoaded: p.filesLoaded, filesTotal: p.filesTotal, fromCache: p.fromCache })),
    })
    : model;
  // Both SIMD builds next to the bundle (the relaxed one only where this browser compiles it); the engine picks by self-test.
  const wasmModule = options.wasmModule ?? await loadKernelModulesFromDisk({ threads: threads > 1 });
  return createEngineWith({ ...rest, model: source, wasmModule, threads });
}
