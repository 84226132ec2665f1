// Typed errors the engine throws. The server maps each to an HTTP status and
// OpenAI's error shape in one place (src/server/errors.ts); nothing else
// inspects messages.

/** The request itself is wrong (bad sampling value, empty prompt, ...): HTTP 400. */
export class InvalidRequestError extends Error {
  override readonly name: string = 'InvalidRequestError';
  constructor(message: string, readonly param: string | null = null, readonly code: string | null = null) {
    super(message);
  }
}

/** Prompt plus max_tokens does not fit the model's context: HTTP 400, code context_length_exceeded. */
export class ContextLengthError extends InvalidRequestError {
  override readonly name: string = 'ContextLengthError';
  constructor(message: string, param: string | null, readonly promptTokens: number, readonly contextLength: number) {
    super(message, param, 'context_length_exceeded');
  }
}

/**
 * The engine cannot take the request now: the wait queue is full, or its
 * latent cache does not fit the budget and there is no room to wait. HTTP 429
 * with Retry-After; retrying later can succeed.
 */
export class BusyError extends Error {
  override readonly name = 'BusyError';
  constructor(message: string, readonly retryAfterSeconds = 1) {
    super(message);
  }
}

/** The request's AbortSignal fired before it finished. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor(message = 'generation aborted') {
    super(message);
  }
}

/** The engine was disposed while the request was queued or running. */
export class EngineClosedError extends Error {
  override readonly name = 'EngineClosedError';
  constructor(message = 'the engine was disposed') {
    super(message);
  }
}

/**
 * The model produced logits that are not finite numbers (NaN or ±Infinity),
 * e.g. from NaN weights: the request ends with this error instead of sampling
 * noise. HTTP 500.
 */
export class NonFiniteLogitsError extends Error {
  override readonly name = 'NonFiniteLogitsError';
  constructor(readonly tokenId: number, readonly value: number) {
    super(`the model produced a non-finite logit (${value} for token ${tokenId}); its weights or inputs are broken (load with checkTensors / --check-tensors to find a NaN or Inf weight)`);
  }
}
