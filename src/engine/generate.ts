// One request from prompt to finish: tokenize, check the context, reserve the
// latent cache, prefill in chunks and decode token by token — each forward
// step taken in turn through the scheduler — with incremental detokenizing
// (whole UTF-8 characters only) and stop-string hold-back.
import { ChatContentError, chatPromptIds, type ChatPromptOptions } from '../tokenizer/chat-prompt.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { AbortedError, ContextLengthError, InvalidRequestError } from './errors.ts';
import type { ModelRunner, Sequence } from './runner-types.ts';
import { Sampler, type SampledToken } from './sampler.ts';
import type { Scheduler } from './scheduler.ts';
import { StopStringMatcher } from './stop-strings.ts';
import type { FinishEvent, GenerateEvent, GenerateRequest, TokenEvent, TokenLogprob } from './types.ts';

export interface GenerationContext {
  runner: ModelRunner;
  tokenizer: Tokenizer;
  scheduler: Scheduler;
  contextLength: number;
  /** Tokens one prefill step takes before other requests get a turn. */
  prefillChunk: number;
  /** Parse control-token text in chat message content (EngineOptions.specialTokensInContent). */
  specialTokensInContent?: boolean;
}

/** Prompt ids for a request: explicit ids, chat messages through the template, or text with BOS. */
export function promptIdsOf(tokenizer: Tokenizer, request: GenerateRequest, options: ChatPromptOptions = {}): number[] {
  const given = [request.promptIds !== undefined, request.messages !== undefined, request.prompt !== undefined].filter(Boolean).length;
  if (given !== 1) throw new InvalidRequestError('give exactly one of prompt, promptIds or messages', 'prompt');
  if (request.promptIds) return [...request.promptIds];
  if (request.messages) {
    if (request.messages.length === 0) throw new InvalidRequestError('messages must not be empty', 'messages');
    try {
      return chatPromptIds(tokenizer, request.messages, options);
    } catch (error) {
      if (error instanceof ChatContentError) throw new InvalidRequestError(error.message, `messages.${error.messageIndex}.content`);
      throw error;
    }
  }
  // User text never turns into special tokens: parseSpecial off, BOS per the tokenizer config.
  return tokenizer.encode(request.prompt!, { addSpecialTokens: true, parseSpecial: false });
}

/** max_tokens after defaults, checked against the context: prompt + max_tokens ≤ context. */
export function resolveMaxTokens(request: GenerateRequest, promptTokens: number, contextLength: number): number {
  if (promptTokens === 0) throw new InvalidRequestError('the prompt is empty (no tokens)', 'prompt');
  if (promptTokens >= contextLength) {
    throw new ContextLengthError(
      `the prompt is ${promptTokens} tokens, but this model's context is ${contextLength} tokens and at least one must be left to generate`,
      request.messages ? 'messages' : 'prompt', promptTokens, contextLength);
  }
  const max = request.maxTokens ?? Math.min(request.maxTokensCap ?? Infinity, contextLength - promptTokens);
  if (!Number.isInteger(max) || max < 1) throw new InvalidRequestError(`max_tokens must be a positive integer, got ${max}`, 'max_tokens');
  if (promptTokens + max > contextLength) {
    throw new ContextLengthError(
      `this model's context is ${contextLength} tokens; the prompt (${promptTokens} tokens) plus max_tokens (${max}) would need ${promptTokens + max}; lower max_tokens to at most ${contextLength - promptTokens}`,
      'max_tokens', promptTokens, contextLength);
  }
  return max;
}

export interface PreparedRequest {
  promptIds: number[];
  maxTokens: number;
  sampler: Sampler;
  cacheBytes: number;
}

/** Everything that can fail before any work: throws typed errors synchronously-ish, reserves nothing. */
export function prepare(ctx: GenerationContext, request: GenerateRequest): PreparedRequest {
  const promptIds = promptIdsOf(ctx.tokenizer, request, { specialTokensInContent: ctx.specialTokensInContent });
  const vocab = ctx.runner.config.vocabSize;
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new InvalidRequestError(`token id ${id} is outside the vocabulary (0..${vocab - 1})`, 'prompt');
  }
  const maxTokens = resolveMaxTokens(request, promptIds.length, ctx.contextLength);
  const topLogprobs = request.topLogprobs ?? 0;
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0 || topLogprobs > 20) {
    throw new InvalidRequestError(`top_logprobs must be an integer from 0 to 20, got ${topLogprobs}`, 'top_logprobs');
  }
  for (const stop of request.stop ?? []) {
    if (typeof stop !== 'string') throw new InvalidRequestError('stop must be strings', 'stop');
  }
  const sampler = new Sampler(request, vocab, promptIds);
  return { promptIds, maxTokens, sampler, cacheBytes: capacityOf(promptIds.length, maxTokens) * ctx.runner.kvBytesPerToken };
}

/** Positions the cache must hold: the last sampled token is never fed back. */
function capacityOf(promptTokens: number, maxTokens: number): number {
  return promptTokens + maxTokens - 1;
}

/**
 * The request's events: its tokens, then one finish event. The finish event is
 * yielded only after the request's cache is released: a consumer that stops
 * at the finish (and never calls return()) leaves nothing behind.
 */
export async function* runGeneration(ctx: GenerationContext, request: GenerateRequest, prepared: PreparedRequest): AsyncGenerator<GenerateEvent> {
  const { runner, tokenizer, scheduler } = ctx;
  const { promptIds, maxTokens, sampler, cacheBytes } = prepared;
  const signal = request.signal;
  const report = request.logprobs || (request.topLogprobs ?? 0) > 0 ? { topLogprobs: request.topLogprobs ?? 0 } : undefined;
  const stopIds = new Set(tokenizer.stopIds);
  const decoder = tokenizer.createDecoder({ skipSpecialTokens: true });
  const stops = new StopStringMatcher(request.stop ?? []);
  const usage = (completionTokens: number) => ({ promptTokens: promptIds.length, completionTokens, totalTokens: promptIds.length + completionTokens });
  const finish = (reason: FinishEvent['reason'], completionTokens: number, text = ''): FinishEvent => ({ type: 'finish', reason, usage: usage(completionTokens), text });

  try {
    await scheduler.reserve(cacheBytes, signal);
  } catch (error) {
    // Aborted while waiting for cache budget: the same ending as an abort mid-generation.
    if (error instanceof AbortedError) { yield finish('abort', 0); return; }
    throw error;
  }
  let ending: FinishEvent;
  let seq: Sequence | undefined;
  try {
    ending = yield* decodeTokens();
  } finally {
    if (seq) runner.release(seq);
    scheduler.release(cacheBytes);
  }
  yield ending;

  /** Prefill, then decode until a stop: yields token events, returns the finish event. */
  async function* decodeTokens(): AsyncGenerator<TokenEvent, FinishEvent> {
    if (signal?.aborted) return finish('abort', 0);
    seq = runner.newSequence(capacityOf(promptIds.length, maxTokens));
    const s = seq;
    let sampled: SampledToken | undefined;
    for (let start = 0; start < promptIds.length; start += ctx.prefillChunk) {
      const chunk = promptIds.slice(start, start + ctx.prefillChunk);
      const last = start + chunk.length >= promptIds.length;
      sampled = await scheduler.step(async () => {
        const logits = await runner.forward(s, chunk);
        return last ? sampler.sample(logits, report) : undefined;
      });
      if (signal?.aborted) return finish('abort', 0);
    }
    for (let n = 1; ; n++) {
      const token = sampled!;
      sampler.accept(token.id);
      if (stopIds.has(token.id)) return finish('stop', n, stops.flush() + decoder.flush());
      const scan = stops.push(decoder.push(token.id));
      yield { type: 'token', id: token.id, text: scan.text, ...logprobOf(tokenizer, token) };
      if (scan.stopped) return finish('stop', n);
      if (n >= maxTokens) {
        const tail = stops.push(decoder.flush());
        return finish(tail.stopped ? 'stop' : 'length', n, tail.stopped ? tail.text : tail.text + stops.flush());
      }
      if (signal?.aborted) return finish('abort', n);
      sampled = await scheduler.step(async () => sampler.sample(await runner.forward(s, [token.id]), report));
      if (signal?.aborted) return finish('abort', n);
    }
  }
}

function logprobOf(tokenizer: Tokenizer, token: SampledToken): Pick<TokenEvent, 'logprob'> {
  if (token.logprob === undefined) return {};
  const describe = (id: number, logprob: number): TokenLogprob => {
    const bytes = tokenizer.tokenBytes(id);
    return { id, logprob, token: new TextDecoder().decode(bytes), bytes: Array.from(bytes) };
  };
  return { logprob: { ...describe(token.id, token.logprob), top: (token.top ?? []).map((t) => describe(t.id, t.logprob)) } };
}
