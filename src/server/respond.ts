// Engine events → an HTTP response: SSE `data: {chunk}\n\n` … `data: [DONE]`
// exactly as OpenAI streams, or one JSON object. The first event is awaited
// before answering, so every error that can be known up front (validation,
// context length, busy) becomes a proper status instead of a broken stream.
// The stream is pulled: the engine makes the next tokens when the client has
// taken the last write (tokens made within 2 ms share one write), and a
// cancelled stream aborts the generation.
import type { Engine, FinishEvent, GenerateEvent, GenerateRequest, TokenEvent } from '../engine/types.ts';
import { errorAnswer } from './errors.ts';
import * as P from './protocol.ts';

/** How one endpoint (chat or completions) spells its objects. */
export interface Dialect {
  prefix: 'chatcmpl' | 'cmpl';
  opening(meta: P.ResponseMeta, withUsage: boolean): object[];
  token(meta: P.ResponseMeta, text: string, event: TokenEvent | undefined, offset: number, withUsage: boolean): object | undefined;
  finish(meta: P.ResponseMeta, event: FinishEvent, withUsage: boolean): object;
  usage(meta: P.ResponseMeta, event: FinishEvent): object;
  whole(meta: P.ResponseMeta, text: string, tokens: TokenEvent[], event: FinishEvent): object;
}

export const chatDialect: Dialect = {
  prefix: 'chatcmpl',
  opening: (meta, withUsage) => [P.chatChunk(meta, { role: 'assistant', content: '' }, null, null, withUsage)],
  token: (meta, text, event, _offset, withUsage) => {
    const lp = event?.logprob ? [P.chatLogprob(event.logprob)] : null;
    return text || lp ? P.chatChunk(meta, { content: text }, null, lp, withUsage) : undefined;
  },
  finish: (meta, event, withUsage) => P.chatChunk(meta, {}, P.finishOut(event.reason), null, withUsage),
  usage: (meta, event) => P.chatUsageChunk(meta, event.usage),
  whole: (meta, text, tokens, event) => {
    const lps = tokens.flatMap((t) => (t.logprob ? [P.chatLogprob(t.logprob)] : []));
    return P.chatCompletion(meta, text, event.reason, lps.length ? lps : null, event.usage);
  },
};

export const completionDialect: Dialect = {
  prefix: 'cmpl',
  opening: () => [],
  token: (meta, text, event, offset, withUsage) => {
    const lp = event?.logprob ? P.completionLogprobs([{ lp: event.logprob, offset }]) : null;
    return text || lp ? P.completionChunk(meta, text, null, lp, withUsage) : undefined;
  },
  finish: (meta, event, withUsage) => P.completionChunk(meta, '', P.finishOut(event.reason), null, withUsage),
  usage: (meta, event) => P.completionUsageChunk(meta, event.usage),
  whole: (meta, text, tokens, event) => {
    let offset = 0;
    const entries = tokens.flatMap((t) => {
      const at = offset;
      offset += t.text.length;
      return t.logprob ? [{ lp: t.logprob, offset: at }] : [];
    });
    return P.completion(meta, text, event.reason, entries.length ? P.completionLogprobs(entries) : null, event.usage);
  },
};

export interface RespondOptions {
  stream: boolean;
  includeUsage: boolean;
  modelId: string;
  /** Aborts the generation (client gone); the request's signal must come from it. */
  abort: AbortController;
  /**
   * Workers' ctx.waitUntil: keeps the request alive until the generation has
   * ended and freed its cache, even after the client has gone (Workers drop a
   * cancelled request's pending work otherwise).
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * A stream the client has not read from for this long is abandoned: its
   * generation is stopped and its cache freed. A safety net for runtimes that
   * do not always report a disconnect (wrangler dev's proxy, sometimes).
   */
  stallTimeoutMs: number;
  /** The longest a made token waits for the next one to share its write (ms). Default 2. */
  coalesceMs?: number;
}

const DEFAULT_COALESCE_MS = 2;

const encoder = new TextEncoder();
const sse = (objects: object[]): Uint8Array => encoder.encode(objects.map((o) => `data: ${JSON.stringify(o)}\n\n`).join(''));
const DONE = encoder.encode('data: [DONE]\n\n');

export async function respond(engine: Engine, request: GenerateRequest, dialect: Dialect, options: RespondOptions): Promise<Response> {
  const events = tracked(engine.generate(request)[Symbol.asyncIterator](), options.waitUntil);
  const first = await events.next();
  const meta = P.newMeta(dialect.prefix, options.modelId);
  if (!options.stream) return wholeResponse(events, first, dialect, meta);

  const withUsage = options.includeUsage;
  const coalesceMs = options.coalesceMs ?? DEFAULT_COALESCE_MS;
  let offset = 0;
  let finished = false;
  // Turns one engine event into the chunks it produces (possibly none).
  const chunksOf = (event: GenerateEvent): object[] => {
    if (event.type === 'token') {
      const chunk = dialect.token(meta, event.text, event, offset, withUsage);
      offset += event.text.length;
      return chunk ? [chunk] : [];
    }
    finished = true;
    const out: object[] = [];
    const tail = event.text ? dialect.token(meta, event.text, undefined, offset, withUsage) : undefined;
    if (tail) out.push(tail);
    if (event.reason === 'abort') return out;
    out.push(dialect.finish(meta, event, withUsage));
    if (withUsage) out.push(dialect.usage(meta, event));
    return out;
  };

  const opening = [...dialect.opening(meta, withUsage), ...(first.done ? [] : chunksOf(first.value))];
  let stall: ReturnType<typeof setTimeout> | undefined;
  const watchStall = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    stall = setTimeout(() => {
      options.abort.abort();
      void events.return?.();
      controller.error(new Error(`the client read nothing for ${options.stallTimeoutMs} ms`));
    }, options.stallTimeoutMs);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(sse(opening));
      if (finished || first.done) {
        controller.enqueue(DONE);
        controller.close();
        // The iterator may still be suspended at its finish event: end it, so nothing it holds outlives the response.
        void events.return?.();
      } else watchStall(controller);
    },
    async pull(controller) {
      clearTimeout(stall);
      // Tokens made within coalesceMs of the pull go out in one write: a model
      // that makes a token in a fraction of that would otherwise pay the
      // per-write cost (chunk, socket write, the client's wake-up) for each one.
      const started = performance.now();
      const pending: object[] = [];
      try {
        for (;;) {
          const next = await events.next();
          if (next.done) {
            if (pending.length) controller.enqueue(sse(pending));
            if (!finished) controller.enqueue(DONE);
            controller.close();
            return;
          }
          pending.push(...chunksOf(next.value));
          if (finished) {
            if (pending.length) controller.enqueue(sse(pending));
            if (next.value.type === 'finish' && next.value.reason !== 'abort') controller.enqueue(DONE);
            controller.close();
            await events.return?.();
            return;
          }
          // Where the clock stands still during compute (Workers), every token is sent at once.
          const elapsed = performance.now() - started;
          if (pending.length && (elapsed === 0 || elapsed >= coalesceMs)) {
            controller.enqueue(sse(pending));
            watchStall(controller);
            return;
          }
        }
      } catch (error) {
        // Headers are gone: report in-band as OpenAI does, then end the stream.
        controller.enqueue(sse([...pending, errorAnswer(error).body]));
        controller.close();
      }
    },
    async cancel() {
      clearTimeout(stall);
      options.abort.abort();
      await events.return?.();
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    status: 200,
    // The runtime frames the body (chunked for HTTP/1.1, close-delimited for HTTP/1.0 clients).
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
  });
}

async function wholeResponse(events: AsyncIterator<GenerateEvent>, first: IteratorResult<GenerateEvent>, dialect: Dialect, meta: P.ResponseMeta): Promise<Response> {
  const tokens: TokenEvent[] = [];
  let text = '';
  let finish: FinishEvent | undefined;
  for (let next = first; !next.done; next = await events.next()) {
    const event = next.value;
    if (event.type === 'token') { tokens.push(event); text += event.text; }
    else { finish = event; text += event.text; }
  }
  if (!finish) throw new Error('generation ended without a finish event');
  return Response.json(dialect.whole(meta, text, tokens, finish));
}

/** The iterator, with `waitUntil` given a promise that settles when it is finished or returned. */
function tracked(events: AsyncIterator<GenerateEvent>, waitUntil?: (promise: Promise<unknown>) => void): AsyncIterator<GenerateEvent> {
  if (!waitUntil) return events;
  let settle!: () => void;
  waitUntil(new Promise<void>((resolve) => { settle = resolve; }));
  const end = <T>(result: Promise<T>, done: (value: T) => boolean): Promise<T> =>
    result.then((value) => { if (done(value)) settle(); return value; }, (error) => { settle(); throw error; });
  return {
    next: () => end(events.next(), (r) => r.done === true || r.value.type === 'finish'),
    return: (value?: unknown) => end(events.return?.(value) ?? Promise.resolve({ done: true, value: undefined }), () => true),
  } as AsyncIterator<GenerateEvent>;
}
