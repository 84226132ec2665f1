// OpenAI request bodies (already schema-checked) → engine GenerateRequests,
// with the server's own limits: the served model id, n = 1, max_tokens.
import type { ChatMessage, GenerateRequest } from '../engine/types.ts';
import { HttpError, modelNotFound } from './errors.ts';
import { messageText, type ChatCompletionRequest, type CompletionRequest } from './protocol.ts';

export interface RequestLimits {
  modelId: string;
  /** The largest max_tokens a request may ask for (and the default cap when it asks for none). */
  maxTokensLimit: number;
  /** The model's vocabulary size: logit_bias keys must be token ids below it. */
  vocabSize: number;
}

const unsupported = (param: string, message: string) => new HttpError(400, message, 'invalid_request_error', 'unsupported_value', param);

type Common = ChatCompletionRequest | CompletionRequest;

/** OpenAI fields this server does not implement: each is refused by name unless absent or a value that asks for nothing. */
function refuseUnimplemented(body: Common): void {
  const present = (value: unknown) => value !== undefined && value !== null;
  if (body.response_format && body.response_format.type !== 'text') {
    throw unsupported('response_format', `response_format ${body.response_format.type} is not supported: this server does not constrain output to JSON (only {"type": "text"}).`);
  }
  if (body.tools?.length) throw unsupported('tools', 'tools are not supported: this server does not call functions.');
  if (body.functions?.length) throw unsupported('functions', 'functions are not supported: this server does not call functions.');
  if (present(body.tool_choice) && body.tool_choice !== 'none') throw unsupported('tool_choice', 'tool_choice is only allowed as "none": this server does not call functions.');
  if (present(body.function_call) && body.function_call !== 'none') throw unsupported('function_call', 'function_call is only allowed as "none": this server does not call functions.');
  if (present(body.parallel_tool_calls)) throw unsupported('parallel_tool_calls', 'parallel_tool_calls is only allowed with tools, which this server does not support.');
  if (body.store) throw unsupported('store', 'store is not supported: this server keeps no completions.');
  if (body.metadata && Object.keys(body.metadata).length > 0) throw unsupported('metadata', 'metadata is not supported: this server keeps no completions to tag.');
  if (present(body.service_tier) && body.service_tier !== 'auto' && body.service_tier !== 'default') {
    throw unsupported('service_tier', `service_tier '${body.service_tier}' is not supported: this server has one tier ("auto" or "default").`);
  }
  if (body.modalities && body.modalities.some((m) => m !== 'text')) throw unsupported('modalities', 'only the text modality is supported.');
  for (const param of ['audio', 'prediction', 'reasoning_effort', 'web_search_options'] as const) {
    if (present(body[param])) throw unsupported(param, `${param} is not supported by this server.`);
  }
  if (body.stream_options && body.stream !== true) {
    throw unsupported('stream_options', 'stream_options is only allowed when stream is true.');
  }
}

/** logit_bias keys are token ids of this model ("337"), as OpenAI's are. */
function logitBiasOf(bias: Record<string, number> | null | undefined, vocabSize: number): Record<number, number> | undefined {
  if (!bias) return undefined;
  const out: Record<number, number> = {};
  for (const [key, value] of Object.entries(bias)) {
    const id = Number(key);
    if (!/^\d+$/.test(key) || id >= vocabSize) {
      throw new HttpError(400, `Invalid key in logit_bias: '${key}' is not a token id of this model (integers 0..${vocabSize - 1}).`, 'invalid_request_error', 'invalid_value', 'logit_bias');
    }
    out[id] = value;
  }
  return out;
}

function common(body: Common, limits: RequestLimits, maxTokens: number | null | undefined, signal: AbortSignal): GenerateRequest {
  if (body.model !== limits.modelId) throw modelNotFound(body.model, limits.modelId);
  if ((body.n ?? 1) !== 1) throw unsupported('n', `n = ${body.n} is not supported: this server generates one choice per request (n = 1).`);
  refuseUnimplemented(body);
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
    logitBias: logitBiasOf(body.logit_bias, limits.vocabSize),
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
  if ((body.best_of ?? 1) !== 1) throw unsupported('best_of', `best_of = ${body.best_of} is not supported: this server generates one candidate per request (best_of = 1).`);
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
