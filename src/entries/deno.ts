// Deno: `deno task serve` (deno.json). Environment: EDGESEEK_MODEL (a model
// directory; default the bundled model), PORT (8787), EDGESEEK_API_KEY,
// EDGESEEK_BACKEND (cpu | webgpu | auto), EDGESEEK_CORS (*, none or origins;
// see AppOptions.cors), EDGESEEK_PLAYGROUND=off (no page at /), and the
// options of `edgeseek serve`: EDGESEEK_THREADS, EDGESEEK_ACTIVATIONS
// (f32 | int16), EDGESEEK_QUANTIZE (a block type: q8_0, q4_k, ...), EDGESEEK_CACHE_BUDGET_BYTES,
// EDGESEEK_MAX_QUEUE, EDGESEEK_STEP_TOKENS, EDGESEEK_BLOCK_SIZE.
import { createEngine, resolveSource } from '../engine/engine.ts';
import type { BackendKind } from '../backend/create-backend.ts';
import type { QuantizeMode } from '../model/load-weights.ts';
import { createApp } from '../server/app.ts';
import { corsSetting } from '../server/cors-setting.ts';
import { DEFAULT_MODEL_DIR } from './default-model.ts';
import { playgroundFilesOnDisk } from './playground-files.ts';

declare const Deno: {
  env: { get(name: string): string | undefined };
  serve(options: { port: number; hostname?: string; onListen?: (addr: { port: number; hostname: string }) => void }, handler: (request: Request) => Response | Promise<Response>): unknown;
};

const env = (name: string) => Deno.env.get(name);
const model = await resolveSource(env('EDGESEEK_MODEL') ?? new URL(`../../${DEFAULT_MODEL_DIR}`, import.meta.url).pathname);
const number = (name: string) => (env(name) ? Number(env(name)) : undefined);
const engine = await createEngine({
  model, backend: (env('EDGESEEK_BACKEND') ?? 'cpu') as BackendKind,
  threads: number('EDGESEEK_THREADS'), activations: env('EDGESEEK_ACTIVATIONS') as 'f32' | 'int16' | undefined,
  quantize: env('EDGESEEK_QUANTIZE') as QuantizeMode | undefined,
  cacheBudgetBytes: number('EDGESEEK_CACHE_BUDGET_BYTES'), maxQueue: number('EDGESEEK_MAX_QUEUE'),
  stepTokens: number('EDGESEEK_STEP_TOKENS'), blockSize: number('EDGESEEK_BLOCK_SIZE'),
});
const playground = env('EDGESEEK_PLAYGROUND') !== 'off' && { files: playgroundFilesOnDisk(), model };
const app = createApp(engine, { apiKey: env('EDGESEEK_API_KEY'), cors: corsSetting(env('EDGESEEK_CORS')), playground });
Deno.serve({
  port: Number(env('PORT') ?? 8787),
  hostname: env('HOST') ?? '127.0.0.1',
  onListen: ({ hostname, port }) => console.log(`edgeseek: serving ${engine.model.id} on http://${hostname}:${port}`),
}, app.fetch);
