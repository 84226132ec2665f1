// createApp(engine, options): the OpenAI-compatible HTTP surface as a Hono app
// (design.md "The HTTP surface"). It knows HTTP and the protocol, never
// tensors: it validates, calls engine.generate() and streams what comes back.
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import type { z } from 'zod';
import type { Engine, GenerateRequest } from '../engine/types.ts';
import { checkBearer, keyDigest } from './auth.ts';
import {
  bodyTooLarge, errorResponse, invalidApiKey, malformedJson, modelNotFound, notFound, schemaError, unsupportedMediaType,
} from './errors.ts';
import { chatCompletionRequest, completionRequest as completionSchema, modelList } from './protocol.ts';
import { chatRequest, completionRequest, type RequestLimits } from './requests.ts';
import { playgroundRoutes, type PlaygroundOptions } from './playground.ts';
import { chatDialect, completionDialect, respond, type Dialect } from './respond.ts';

export interface AppOptions {
  /** Require `Authorization: Bearer <apiKey>` on /v1/*. */
  apiKey?: string;
  /** Largest request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest max_tokens a request may ask for; also the cap when it asks for none. Default 4096. */
  maxTokensLimit?: number;
  /**
   * Which web pages on other origins may call the API from a browser: true (any
   * origin), false (none: same-origin pages only), or the allowed origin(s).
   * Default: any origin when an API key is required (a page elsewhere cannot
   * call without the key), none otherwise — so a keyless server on localhost
   * cannot be driven by whatever page its user happens to visit.
   */
  cors?: boolean | string | string[];
  /** The id requests must name in `model`. Default engine.model.id. */
  modelId?: string;
  /**
   * A stream the client has not read for this long is stopped and its cache
   * freed. Default 10 s: an SSE client reads continuously, and under
   * `wrangler dev` this is how a dropped connection is noticed (README "Serving").
   */
  streamStallTimeoutMs?: number;
  /** The playground page at / (src/server/playground.ts); off when omitted or false. */
  playground?: PlaygroundOptions | false;
}

export function createApp(engine: Engine, options: AppOptions = {}): Hono {
  const modelId = options.modelId ?? engine.model.id;
  const limits: RequestLimits = { modelId, maxTokensLimit: options.maxTokensLimit ?? 4096, vocabSize: engine.model.vocabSize };
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const expectedKey = options.apiKey ? keyDigest(options.apiKey) : undefined;
  const started = Math.floor(Date.now() / 1000);
  const app = new Hono();

  const corsPolicy = options.cors ?? expectedKey !== undefined;
  if (corsPolicy !== false) {
    const origin = corsPolicy === true ? '*' : corsPolicy;
    app.use('*', cors({ origin, allowHeaders: ['Authorization', 'Content-Type'], allowMethods: ['GET', 'POST', 'OPTIONS'], maxAge: 86400 }));
  }
  app.use('/v1/*', async (c, next) => {
    if (!expectedKey || c.req.method === 'OPTIONS') return next();
    const check = await checkBearer(c.req.header('Authorization'), expectedKey);
    if (check !== 'ok') return errorResponse(invalidApiKey(check === 'wrong'));
    return next();
  });

  app.get('/health', (c) => {
    const load = engine.load();
    return c.json({
      status: 'ok', model: modelId, backend: engine.model.backend, activations: engine.model.activations,
      ...(engine.model.kernels ? { cpu_kernels: engine.model.kernels } : {}),
      // Cache held by running requests (0 when idle); reusable prompt-prefix blocks are counted apart.
      cache_bytes_in_use: load.cacheBytesInUse, cache_budget_bytes: engine.cacheBudgetBytes, queued: load.waiting,
      running: load.running, waiting: load.waiting, preemptions: load.preemptions,
      cache_blocks_in_use: load.cacheBlocksInUse, cache_blocks: load.cacheBlocks, cache_block_tokens: load.blockTokens,
      prefix_cache_blocks: load.prefixCacheBlocks, prefix_cache_bytes: load.prefixCacheBytes,
      kv_bytes_per_token: load.kvBytesPerToken, context_length: engine.model.contextLength,
    });
  });
  app.get('/v1/models', (c) => c.json(modelList(modelId, started)));
  app.get('/v1/models/:id', (c) => (c.req.param('id') === modelId
    ? c.json(modelList(modelId, started).data[0])
    : errorResponse(modelNotFound(c.req.param('id'), modelId))));

  const endpoint = <S extends z.ZodType>(schema: S, toRequest: (body: z.infer<S>, limits: RequestLimits, signal: AbortSignal) => GenerateRequest, dialect: Dialect) =>
    async (c: Context): Promise<Response> => {
      const json = await readJson(c.req.raw);
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw schemaError(parsed.error);
      const body = parsed.data as z.infer<S> & { stream?: boolean | null; stream_options?: { include_usage?: boolean | null } | null };
      const abort = new AbortController();
      // A client that goes away stops its generation (the stream's cancel covers runtimes without request signals).
      c.req.raw.signal?.addEventListener('abort', () => abort.abort(), { once: true });
      const request = toRequest(body, limits, abort.signal);
      return respond(engine, request, dialect, {
        stream: body.stream === true, includeUsage: body.stream_options?.include_usage === true, modelId, abort, waitUntil: waitUntilOf(c),
        stallTimeoutMs: options.streamStallTimeoutMs ?? 10_000,
      });
    };
  // JSON only: a form or text/plain POST (which any web page may send without asking) never runs the model.
  app.post('/v1/*', async (c, next) => {
    const type = c.req.header('Content-Type');
    if (type?.split(';')[0].trim().toLowerCase() !== 'application/json') throw unsupportedMediaType(type);
    return next();
  }, bodyLimit({ maxSize: maxBodyBytes, onError: () => { throw bodyTooLarge(maxBodyBytes); } }));
  app.post('/v1/chat/completions', endpoint(chatCompletionRequest, chatRequest, chatDialect));
  app.post('/v1/completions', endpoint(completionSchema, completionRequest, completionDialect));
  if (options.playground) app.route('/', playgroundRoutes({ ...options.playground, modelId, apiKey: options.apiKey }));

  app.notFound((c) => errorResponse(notFound(c.req.method, c.req.path)));
  app.onError((error) => errorResponse(error));
  return app;
}

/** The runtime's waitUntil where there is one (Workers); Node and Deno have none. */
function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return ctx.waitUntil.bind(ctx);
  } catch {
    return undefined;
  }
}

/** The body as JSON (its size already bounded by bodyLimit). */
async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === '') throw malformedJson('the body is empty');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw malformedJson(error instanceof Error ? error.message : String(error));
  }
}
