// `edgeseek serve [--model PATH] [--port P] [--host H] [--backend cpu|webgpu|auto] [--activations f32|int16]
//   [--threads N] [--simd auto|relaxed|plain] [--quantize q8_0|q4_0]
//   [--api-key K] [--max-tokens-limit N] [--cache-budget-bytes B] [--max-queue N]
//   [--step-tokens N] [--block-size N] [--cors *|none|ORIGINS] [--check-tensors] [--no-playground]`
// → the OpenAI-compatible API on Node, and the playground page at /. The API
// key can also come from EDGESEEK_API_KEY.
import { DEFAULT_STEP_TOKENS } from '../engine/engine.ts';
import { DEFAULT_BLOCK_SIZE } from '../engine/runner.ts';
import { serveNode } from '../entries/node.ts';
import { corsSetting } from '../server/cors-setting.ts';
import { Args, CliError } from './args.ts';
import { BACKEND_OPTIONS, backendArgs } from './open-runner.ts';

function corsSettingOf(text: string | undefined): ReturnType<typeof corsSetting> {
  try {
    return corsSetting(text);
  } catch (error) {
    throw new CliError(`--cors: ${(error as Error).message}`);
  }
}

export const options = [
  'model', ...BACKEND_OPTIONS, 'port', 'host', 'model-id', 'api-key', 'max-tokens-limit', 'cache-budget-bytes', 'max-queue',
  'step-tokens', 'block-size', 'cors', 'check-tensors', 'no-playground',
];

export async function run(argv: string[]): Promise<void> {
  const args = new Args(argv, options);
  const server = await serveNode({
    model: args.string('model'),
    ...backendArgs(args),
    port: args.number('port', 8787),
    hostname: args.string('host') ?? '127.0.0.1',
    modelId: args.string('model-id'),
    apiKey: args.string('api-key') ?? process.env.EDGESEEK_API_KEY,
    maxTokensLimit: args.number('max-tokens-limit'),
    cacheBudgetBytes: args.number('cache-budget-bytes'),
    maxQueue: args.number('max-queue'),
    cors: corsSettingOf(args.string('cors')),
    checkTensors: args.flag('check-tensors'),
    playground: !args.flag('no-playground'),
    stepTokens: args.integer('step-tokens', DEFAULT_STEP_TOKENS, 1),
    blockSize: args.integer('block-size', DEFAULT_BLOCK_SIZE, 1),
  });
  const m = server.engine.model;
  const kernels = m.kernels ? `, ${m.kernels} SIMD` : '';
  const playground = args.flag('no-playground') ? '' : ` (playground: ${server.url}/)`;
  process.stderr.write(`edgeseek: serving ${m.id} (${m.backend}${kernels}, ${m.activations} activations) on ${server.url}/v1${playground}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => { void server.close().then(resolve); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
