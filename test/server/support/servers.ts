// The servers the HTTP suites run against, all on the real engine and the
// real tiny model (test/fixtures/golden/tiny-a): the Node server in-process, and
// the real Worker bundle under Miniflare (wrangler's unstable_startWorker).
import { serve, type ServerType } from '@hono/node-server';
import { fileURLToPath } from 'node:url';
import { createEngine, type EngineOptions } from '../../../src/engine/engine.ts';
import type { Engine, FinishEvent, GenerateEvent } from '../../../src/engine/types.ts';
import { createApp, type AppOptions } from '../../../src/server/app.ts';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The test model. (The default model, models/default, is what `npm start` serves.) */
export const TINY_MODEL = fileURLToPath(new URL('../../fixtures/golden/tiny-a', import.meta.url));
export const TINY_MODEL_ID = 'tiny-a';
export const API_KEY = 'sk-test-edgeseek-0123456789';

export interface TestServer {
  kind: 'node' | 'worker';
  /** e.g. http://127.0.0.1:1234 (no trailing slash) */
  url: string;
  /** The engine, where the server runs in this process (Node). */
  engine?: Engine;
  /** How every generation the engine ran ended (Node: the engine is wrapped to record them). */
  generations?: Generation[];
  /** Latent-cache bytes in use, read from the engine or /health. */
  cacheBytesInUse(): Promise<number>;
  close(): Promise<void>;
}

export interface NodeServerOptions extends Partial<EngineOptions>, AppOptions {
  /** Every generation pauses after its first token until this settles: a request that deterministically stays in flight. */
  holdAfterFirstToken?: Promise<void>;
}

export async function startNodeServer(options: NodeServerOptions = {}): Promise<TestServer> {
  const engine = await createEngine({ model: TINY_MODEL, ...options });
  const generations: Generation[] = [];
  const app = createApp(recording(engine, generations, options.holdAfterFirstToken), { apiKey: API_KEY, ...options });
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server, port: info.port }));
  });
  return {
    kind: 'node',
    url: `http://127.0.0.1:${port}`,
    engine,
    generations,
    cacheBytesInUse: async () => engine.cacheBytesInUse,
    close: async () => {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.dispose();
    },
  };
}

export interface Generation {
  /** The finish reason, or 'cancelled' when the consumer stopped iterating (client gone). */
  reason: FinishEvent['reason'] | 'cancelled';
  /** Token events the engine produced. */
  tokens: number;
}

/** The engine, recording how each generation ended (and holding each after its first token when `hold` is given). */
function recording(engine: Engine, generations: Generation[], hold?: Promise<void>): Engine {
  return Object.create(engine, {
    generate: {
      value: (request: Parameters<Engine['generate']>[0]) => ({
        async* [Symbol.asyncIterator](): AsyncGenerator<GenerateEvent> {
          let tokens = 0;
          let reason: Generation['reason'] = 'cancelled';
          try {
            for await (const event of engine.generate(request)) {
              if (event.type === 'token') tokens++;
              else reason = event.reason;
              yield event;
              if (tokens === 1 && hold) await hold;
            }
          } finally {
            generations.push({ reason, tokens });
          }
        },
      }),
    },
  });
}

export async function startWorkerServer(vars: Record<string, string> = {}): Promise<TestServer> {
  process.env.WRANGLER_SEND_METRICS = 'false';
  const { unstable_startWorker } = await import('wrangler');
  const bindings: Record<string, { type: 'plain_text'; value: string }> = {
    API_KEY: { type: 'plain_text', value: API_KEY },
    MODEL_ID: { type: 'plain_text', value: TINY_MODEL_ID },
  };
  for (const [name, value] of Object.entries(vars)) bindings[name] = { type: 'plain_text', value };
  const worker = await unstable_startWorker({
    config: `${ROOT}/wrangler.toml`,
    assets: TINY_MODEL,
    bindings,
    // `wrangler dev` derives this from compatibility_flags; the API needs it spelled out.
    build: { nodejsCompatMode: 'v2' },
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, logLevel: 'warn', persist: false },
  });
  const url = (await worker.url).toString().replace(/\/$/, '');
  return {
    kind: 'worker',
    url,
    cacheBytesInUse: async () => ((await (await fetch(`${url}/health`)).json()) as { cache_bytes_in_use: number }).cache_bytes_in_use,
    close: () => worker.dispose(),
  };
}

