// One request from prompt to finish: tokenize, check the context, queue it
// in the scheduler, and yield its events as the batched steps make them —
// polling on this request's own timers, and driving the next step itself
// whenever no step is running (design.md "Serving many users": no request
// waits on a promise another request settles).
import { ChatContentError, chatPromptIds, type ChatPromptOptions } from '../tokenizer/chat-prompt.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { ContextLengthError, InvalidRequestError } from './errors.ts';
import { RequestSequence } from './request-sequence.ts';
import type { ModelRunner } from './runner-types.ts';
import { Sampler } from './sampler.ts';
import type { Scheduler } from './scheduler.ts';
import type { GenerateEvent, GenerateRequest } from './types.ts';

export interface GenerationContext {
  runner: ModelRunner;
  tokenizer: Tokenizer;
  scheduler: Scheduler;
  contextLength: number;
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
  return { promptIds, maxTokens, sampler };
}

/**
 * The request's events: its tokens, then one finish event. The finish event is
 * yielded only after the request's blocks are released: a consumer that stops
 * at the finish (and never calls return()) leaves nothing behind.
 */
export async function* runGeneration(ctx: GenerationContext, request: GenerateRequest, prepared: PreparedRequest): AsyncGenerator<GenerateEvent> {
  const { scheduler } = ctx;
  const signal = request.signal;
  const report = request.logprobs || (request.topLogprobs ?? 0) > 0 ? { topLogprobs: request.topLogprobs ?? 0 } : undefined;
  const sequence = new RequestSequence({
    tokenizer: ctx.tokenizer, promptIds: prepared.promptIds, maxTokens: prepared.maxTokens, sampler: prepared.sampler,
    stop: request.stop ?? [], report,
  });
  if (signal?.aborted) {
    sequence.abort();
    yield sequence.events.shift()!;
    return;
  }
  const scheduled = scheduler.add(sequence);
  sequence.scheduled = scheduled;
  // The abort listener touches plain state only: it may fire in another request's context.
  const onAbort = (): void => { sequence.abort(); scheduler.cancel(scheduled); };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let idle = 0; ;) {
      const event = sequence.events.shift();
      if (event) {
        idle = 0;
        // An abort's finish can be queued while a step that holds its blocks is in flight: it waits for the release.
        while (event.type === 'finish' && scheduled.state !== 'finished') idle = await driveOrWait(scheduler, idle);
        yield event;
        continue;
      }
      if (sequence.error) throw sequence.error;
      if (sequence.done) return;
      idle = await driveOrWait(scheduler, idle);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Returned early (a client gone) or failed: the sequence leaves the scheduler and frees its blocks.
    scheduler.cancel(scheduled);
  }
}

/** The longest a run of steps goes without letting the event loop (sockets, other requests) in. */
const YIELD_EVERY_MS = 2;
/** When the event loop last had a full turn, I/O included: the latest time a finished macrotask hop was scheduled. */
let lastTurn = 0;

/**
 * Runs the next step when none is running, there is work, and the event
 * loop had a full turn since the last step ended (or within YIELD_EVERY_MS:
 * a small model's steps go back to back for that long); else hops a
 * macrotask on this request's own timers (backing off to 1 ms while a step
 * waits on I/O such as a GPU read-back). The turn is judged by when a hop was
 * scheduled, not when it ran: with many requests polling, one check phase of
 * the event loop must not run step after step while sockets wait. Returns
 * the new count of idle polls.
 */
async function driveOrWait(scheduler: Scheduler, idle: number): Promise<number> {
  const wantsStep = !scheduler.busy && scheduler.hasWork;
  if (wantsStep && (lastTurn >= scheduler.lastStepEnd || performance.now() - lastTurn < YIELD_EVERY_MS)) {
    await scheduler.step();
    return 0;
  }
  const scheduled = performance.now();
  await (wantsStep || idle < 64 ? yieldToEventLoop() : sleep(1));
  lastTurn = Math.max(lastTurn, scheduled);
  return wantsStep ? idle : idle + 1;
}

type Immediate = (callback: () => void) => unknown;
const setImmediateIfAny = (globalThis as { setImmediate?: Immediate }).setImmediate;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A macrotask boundary: setImmediate where there is one (Node, Deno, workerd), else setTimeout(0). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (setImmediateIfAny) setImmediateIfAny(resolve);
    else setTimeout(resolve, 0);
  });
}
