// OpenAI request bodies (already schema-checked) → engine GenerateRequests,
// with the server's own limits: the served model id, n = 1, max_tokens.
import type { ChatMessage, GenerateRequest } from '../engine/types.ts';
import { HttpError, modelNotFound } from './errors.ts';
import { messageText, type ChatCompletionRequest, type CompletionRequest } from './protocol.ts';

export interface RequestLimits {
  modelId: string;
  /** The largest max_tokens a request may ask for (and the default cap when it asks for none). */
  maxTokensLimit: number;
}

const unsupported = (param: string, message: string) => new HttpError(400, message, 'invalid_request_error', 'unsupported_value', param);

type Common = ChatCompletionRequest | CompletionRequest;

function common(body: Common, limits: RequestLimits, maxTokens: number | null | undefined, signal: AbortSignal): GenerateRequest {
  if (body.model !== limits.modelId) throw modelNotFound(body.model, limits.modelId);
  if ((body.n ?? 1) !== 1) throw unsupported('n', `n = ${body.n} is not supported: this server generates one choice per request (n = 1).`);
  if (maxTokens != null && maxTokens > limits.maxTokensLimit) {
    throw new HttpError(400, `max_tokens is ${maxTokens}, more than this server's limit of ${limits.maxTokensLimit}.`, 'invalid_request_error', 'invalid_value', 'max_tokens');
  }
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  return {
    maxTokens: maxTokens ?? undefined,
    maxTokensCap: limits.maxTokensLimit,
    // OpenAI's default temperature is 1; 0 is greedy.
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? undefined,
    topK: body.top_k == null || body.top_k < 0 ? undefined : body.top_k,
    minP: body.min_p ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    repetitionPenalty: body.repetition_penalty ?? undefined,
    seed: body.seed ?? undefined,
    stop,
    signal,
  };
}

export function chatRequest(body: ChatCompletionRequest, limits: RequestLimits, signal: AbortSignal): GenerateRequest {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const messages: ChatMessage[] = body.messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: messageText(m) }));
  if (!body.logprobs && body.top_logprobs) throw unsupported('top_logprobs', 'top_logprobs needs logprobs: true.');
  return {
    ...common(body, limits, maxTokens, signal),
    messages,
    logprobs: body.logprobs ?? false,
    topLogprobs: body.top_logprobs ?? 0,
  };
}

/** Legacy completions: max_tokens defaults to 16, as OpenAI's does. */
export function completionRequest(body: CompletionRequest, limits: RequestLimits, signal: AbortSignal): GenerateRequest {
  if (body.echo) throw unsupported('echo', 'echo is not supported.');
  if (body.suffix) throw unsupported('suffix', 'suffix is not supported.');
  const prompt = body.prompt;
  const text = typeof prompt === 'string' ? prompt : typeof prompt[0] === 'string' ? prompt[0] : undefined;
  return {
    ...common(body, limits, body.max_tokens, signal),
    maxTokensCap: Math.min(16, limits.maxTokensLimit),
    ...(text !== undefined ? { prompt: text } : { promptIds: prompt as number[] }),
    logprobs: body.logprobs != null,
    topLogprobs: body.logprobs ?? 0,
  };
}
