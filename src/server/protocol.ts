// The OpenAI protocol, typed once (web-llm's openai_api_protocols idea): the
// request schemas (zod) and the builders for every response object the server
// sends. Schemas are strict: a field this server does not know is a 400 naming
// it, as OpenAI answers "Unrecognized request argument". OpenAI fields it knows
// but does not implement are parsed here and refused by name in requests.ts,
// never accepted and ignored.
import { z } from 'zod';
import type { FinishReason, TokenLogprob, Usage } from '../engine/types.ts';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const stop = z.union([z.string(), z.array(z.string()).max(16)]).nullish();

/** Sampling fields shared by both endpoints, with vLLM's extensions (top_k, min_p, repetition_penalty). */
const sampling = {
  model: z.string().min(1),
  max_tokens: int(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().gt(0).max(10).nullish(),
  seed: z.number().int().nullish(),
  n: int(1).nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).strict().nullish(),
  user: z.string().nullish(),
  /** Token id (as a string key) → bias in [−100, 100]; ids are checked against the vocabulary in requests.ts. */
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  response_format: z.object({ type: z.enum(['text', 'json_object', 'json_schema']) }).loose().nullish(),
  // Known OpenAI fields this server does not implement: refused by name in requests.ts unless absent or a no-op value.
  tools: z.array(z.unknown()).nullish(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.array(z.unknown()).nullish(),
  function_call: z.unknown().optional(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  service_tier: z.string().nullish(),
  modalities: z.array(z.string()).nullish(),
  audio: z.unknown().optional(),
  prediction: z.unknown().optional(),
  reasoning_effort: z.unknown().optional(),
  web_search_options: z.unknown().optional(),
};

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(textPart)]).nullish(),
  name: z.string().nullish(),
}).strict();

export const chatCompletionRequest = z.object({
  ...sampling,
  messages: z.array(message).min(1, 'messages must contain at least one message'),
  max_completion_tokens: int(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: int(0, 20).nullish(),
}).strict();

export const completionRequest = z.object({
  ...sampling,
  prompt: z.union([
    z.string(),
    z.array(z.string()).length(1, 'only one prompt per request is supported'),
    z.array(int(0)).min(1),
  ]),
  logprobs: int(0, 5).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  best_of: int(1).nullish(),
}).strict();

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;
export type CompletionRequest = z.infer<typeof completionRequest>;
export type ChatMessageIn = z.infer<typeof message>;

/** A message's text: a string, or its text parts joined. */
export function messageText(m: ChatMessageIn): string {
  if (typeof m.content === 'string') return m.content;
  return (m.content ?? []).map((part) => part.text).join('');
}

// ---- responses --------------------------------------------------------------

export interface UsageOut {
  prompt_tokens: number; completion_tokens: number; total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function usageOut(usage: Usage): UsageOut {
  return {
    prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
  };
}

export type FinishOut = 'stop' | 'length' | null;

export function finishOut(reason: FinishReason): FinishOut {
  return reason === 'length' ? 'length' : 'stop';
}

interface LogprobOut { token: string; logprob: number; bytes: number[] }
export interface ChatLogprobOut extends LogprobOut { top_logprobs: LogprobOut[] }

export function chatLogprob(lp: TokenLogprob & { top: TokenLogprob[] }): ChatLogprobOut {
  return {
    token: lp.token, logprob: lp.logprob, bytes: lp.bytes,
    top_logprobs: lp.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })),
  };
}

export interface ResponseMeta { id: string; created: number; model: string }

export function chatChunk(meta: ResponseMeta, delta: { role?: 'assistant'; content?: string }, finish: FinishOut, logprobs: ChatLogprobOut[] | null, withUsage: boolean) {
  return {
    id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: logprobs ? { content: logprobs } : null, finish_reason: finish }],
    ...(withUsage ? { usage: null } : {}),
  };
}

export function chatUsageChunk(meta: ResponseMeta, usage: Usage) {
  return {
    id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, system_fingerprint: null,
    choices: [], usage: usageOut(usage),
  };
}

export function chatCompletion(meta: ResponseMeta, content: string, finish: FinishReason, logprobs: ChatLogprobOut[] | null, usage: Usage) {
  return {
    id: meta.id, object: 'chat.completion', created: meta.created, model: meta.model, system_fingerprint: null,
    choices: [{
      index: 0,
      message: { role: 'assistant', content, refusal: null },
      logprobs: logprobs ? { content: logprobs } : null,
      finish_reason: finishOut(finish),
    }],
    usage: usageOut(usage),
  };
}

/** The legacy completions logprobs object, for one or more tokens. */
export interface CompletionLogprobsOut {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export function completionLogprobs(entries: { lp: TokenLogprob & { top: TokenLogprob[] }; offset: number }[]): CompletionLogprobsOut {
  return {
    tokens: entries.map((e) => e.lp.token),
    token_logprobs: entries.map((e) => e.lp.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.lp.top.map((t) => [t.token, t.logprob]))),
    text_offset: entries.map((e) => e.offset),
  };
}

export function completionChunk(meta: ResponseMeta, text: string, finish: FinishOut, logprobs: CompletionLogprobsOut | null, withUsage: boolean) {
  return {
    id: meta.id, object: 'text_completion', created: meta.created, model: meta.model, system_fingerprint: null,
    choices: [{ text, index: 0, logprobs, finish_reason: finish }],
    ...(withUsage ? { usage: null } : {}),
  };
}

export function completionUsageChunk(meta: ResponseMeta, usage: Usage) {
  return {
    id: meta.id, object: 'text_completion', created: meta.created, model: meta.model, system_fingerprint: null,
    choices: [], usage: usageOut(usage),
  };
}

export function completion(meta: ResponseMeta, text: string, finish: FinishReason, logprobs: CompletionLogprobsOut | null, usage: Usage) {
  return {
    id: meta.id, object: 'text_completion', created: meta.created, model: meta.model, system_fingerprint: null,
    choices: [{ text, index: 0, logprobs, finish_reason: finishOut(finish) }],
    usage: usageOut(usage),
  };
}

export function modelList(id: string, created: number) {
  return { object: 'list', data: [{ id, object: 'model', created, owned_by: 'edgeseek' }] };
}

export function newMeta(prefix: 'chatcmpl' | 'cmpl', model: string): ResponseMeta {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return { id: `${prefix}-${id}`, created: Math.floor(Date.now() / 1000), model };
}
