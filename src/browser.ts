// `edgeseek/browser` (and `edgeseek` under a bundler's browser condition): the
// engine in a page, built by scripts/build-browser.js into dist/browser/edgeseek.js
// with the .wasm files beside it. README "edgeseek in a page".
export { createEngine, defaultThreads, type BrowserEngineOptions } from './browser/engine.ts';
export { openModelUrl, type DownloadProgress, type ModelUrlOptions } from './browser/cached-source.ts';
export { clearModelCache } from './browser/chunk-store.ts';
export { engineFromParts, modelIdOf, type LoadProgress } from './engine/engine.ts';
export { loadModelRunner, type RunnerOptions } from './engine/runner.ts';
export type { ModelRunner, Sequence } from './engine/runner-types.ts';
export { AbortedError, BusyError, ContextLengthError, EngineClosedError, InvalidRequestError, NonFiniteLogitsError } from './engine/errors.ts';
export type {
  ChatMessage, Engine, FinishEvent, FinishReason, GenerateEvent, GenerateRequest, ModelInfo, SamplingOptions, TokenEvent, TokenLogprob, Usage,
} from './engine/types.ts';
export { fetchSource, urlSource } from './entries/fetch-source.ts';
export { memorySource, type ModelSource } from './model/source.ts';
export { loadWasmModuleFromDisk as loadWasmModule, loadWasmThreadsModuleFromDisk as loadWasmThreadsModule } from './browser/wasm-module.ts';
