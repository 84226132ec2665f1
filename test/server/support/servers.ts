// The servers the HTTP suites run against, all on the real engine and the
// real tiny model (test/fixtures/golden/tiny-a): the Node server in-process,
// the real Worker bundle under Miniflare (wrangler's unstable_startWorker), and
// the Deno entry (src/entries/deno.ts) in a Deno process.
import { serve, type ServerType } from '@hono/node-server';
import { spawn } from 'node:child_process';
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
  kind: 'node' | 'worker' | 'deno';
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
    cacheBytesInUse: healthCacheBytes(url),
    close: () => worker.dispose(),
  };
}

/** /health's cache_bytes_in_use, for servers in another process. */
const healthCacheBytes = (url: string) => async () =>
  ((await (await fetch(`${url}/health`)).json()) as { cache_bytes_in_use: number }).cache_bytes_in_use;

/** `deno run src/entries/deno.ts` on the tiny model (env: the entry's variables, e.g. EDGESEEK_CORS). */
export async function startDenoServer(env: Record<string, string> = {}): Promise<TestServer> {
  const deno = spawn(`${ROOT}/node_modules/.bin/deno`, ['run', '--allow-read', '--allow-env', '--allow-net', '--allow-sys', 'src/entries/deno.ts'], {
    cwd: ROOT,
    env: { ...process.env, EDGESEEK_MODEL: TINY_MODEL, PORT: '0', EDGESEEK_API_KEY: API_KEY, DENO_NO_UPDATE_CHECK: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  // Waits until Deno serves or exits; only the hook timeout bounds a hang.
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      log += data.toString();
      const match = /serving \S+ on (http:\/\/\S+)/.exec(log);
      if (match) resolve(match[1]);
    };
    deno.stdout!.on('data', onData);
    deno.stderr!.on('data', onData);
    deno.once('exit', (code) => reject(new Error(`deno exited with ${code}:\n${log}`)));
  });
  return {
    kind: 'deno',
    url,
    cacheBytesInUse: healthCacheBytes(url),
    close: async () => {
      if (deno.exitCode !== null) return;
      const exited = new Promise((resolve) => deno.once('exit', resolve));
      deno.kill('SIGTERM');
      await exited;
    },
  };
}
