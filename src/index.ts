// The package's exports: embed the engine and the OpenAI-compatible app in
// your own worker or server (README "Embedding").
export { createEngine, engineFromParts, modelIdOf, type EngineOptions, type LoadProgress } from './engine/engine.ts';
export { AbortedError, BusyError, ContextLengthError, EngineClosedError, InvalidRequestError, NonFiniteLogitsError } from './engine/errors.ts';
export type {
  ChatMessage, Engine, FinishEvent, FinishReason, GenerateEvent, GenerateRequest, ModelInfo, SamplingOptions, TokenEvent, TokenLogprob, Usage,
} from './engine/types.ts';
export { createApp, type AppOptions } from './server/app.ts';
export { playgroundFilesFromBase64, type PlaygroundFiles, type PlaygroundOptions } from './server/playground.ts';
export { errorResponse } from './server/errors.ts';
export { fetchSource, r2Source, urlSource, type R2BucketLike } from './entries/fetch-source.ts';
export { memorySource, type ModelSource } from './model/source.ts';
