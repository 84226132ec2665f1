// The Cloudflare Worker (wrangler.toml): the model files come from the static
// assets binding (ASSETS, the default model directory) or an R2 bucket
// (MODEL_BUCKET, objects `${MODEL_PREFIX}config.json`, ...); the Wasm kernels
// are imported as compiled modules, both SIMD builds (src/wasm.ts), the
// playground page and the browser build as one generated module (npm run
// build). The engine loads once per isolate, on the first request, and is
// shared by every request after it.
import type { ExecutionContext, Hono } from 'hono';
import playgroundFiles from '../dist/browser/playground-files.js';
import type { ActivationMode } from './backend/cpu/integer-kernels.ts';
import type { SimdChoice } from './backend/cpu/kernel-build.ts';
import { createEngine } from './engine/engine.ts';
import { fetchSource, r2Source, type R2BucketLike } from './entries/fetch-source.ts';
import type { QuantizeMode } from './model/load-weights.ts';
import type { ModelSource } from './model/source.ts';
import { createApp } from './server/app.ts';
import { corsSetting } from './server/cors-setting.ts';
import { errorResponse } from './server/errors.ts';
import { playgroundFilesFromBase64 } from './server/playground.ts';
import { kernelModules } from './wasm.ts';

export interface Env {
  ASSETS?: { fetch(input: string, init?: RequestInit): Promise<Response> };
  MODEL_BUCKET?: R2BucketLike;
  MODEL_PREFIX?: string;
  /** Secret (`wrangler secret put API_KEY`): when set, /v1/* needs `Authorization: Bearer <key>`. */
  API_KEY?: string;
  MODEL_ID?: string;
  MAX_TOKENS_LIMIT?: string;
  CACHE_BUDGET_BYTES?: string;
  MAX_QUEUE?: string;
  /** Rows per forward step and positions per cache block (EngineOptions.stepTokens, blockSize). */
  STEP_TOKENS?: string;
  BLOCK_SIZE?: string;
  /** QUANTIZE (q8_0, q4_0, ... a block type) at load. */
  QUANTIZE?: string;
  STREAM_STALL_TIMEOUT_MS?: string;
  /** Which other origins' pages may call the API: *, none, or comma-separated origins (default: see AppOptions.cors). */
  CORS_ORIGINS?: string;
  /** "off": no playground page at /. */
  PLAYGROUND?: string;
  /** CPU kernels: 'auto' (default: relaxed SIMD where its self-test passes), 'relaxed' or 'plain'. */
  SIMD?: string;
  /** 'f32' for the exact path of quantized weights (default: their integer mode, int16). */
  ACTIVATIONS?: string;
}

type App = Hono;
let app: Promise<App> | undefined;

function modelSource(env: Env): ModelSource {
  if (env.MODEL_BUCKET) return r2Source(env.MODEL_BUCKET, env.MODEL_PREFIX ?? '');
  if (env.ASSETS) {
    const assets = env.ASSETS;
    return fetchSource('https://assets.local/', (url, init) => assets.fetch(url, init), 'assets');
  }
  throw new Error('no model: bind the model files as static assets (ASSETS) or an R2 bucket (MODEL_BUCKET) in wrangler.toml');
}

async function build(env: Env): Promise<App> {
  const number = (value: string | undefined) => (value ? Number(value) : undefined);
  const model = modelSource(env);
  const engine = await createEngine({
    model,
    wasmModule: kernelModules,
    simd: (env.SIMD || undefined) as SimdChoice | undefined,
    activations: (env.ACTIVATIONS || undefined) as ActivationMode | undefined,
    backend: 'cpu',
    modelId: env.MODEL_ID || 'default',
    cacheBudgetBytes: number(env.CACHE_BUDGET_BYTES),
    maxQueue: number(env.MAX_QUEUE),
    stepTokens: number(env.STEP_TOKENS),
    blockSize: number(env.BLOCK_SIZE),
    quantize: (env.QUANTIZE || undefined) as QuantizeMode | undefined,
  });
  return createApp(engine, { apiKey: env.API_KEY || undefined, maxTokensLimit: number(env.MAX_TOKENS_LIMIT),
    streamStallTimeoutMs: number(env.STREAM_STALL_TIMEOUT_MS), cors: corsSetting(env.CORS_ORIGINS),
    playground: env.PLAYGROUND !== 'off' && { files: playgroundFilesFromBase64(playgroundFiles), model },
  });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    app ??= build(env).catch((error) => { app = undefined; throw error; });
    try {
      return await (await app).fetch(request, env, ctx);
    } catch (error) {
      return errorResponse(error);
    }
  },
};
