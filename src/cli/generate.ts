// `edgeseek generate --model PATH --prompt S [--max-tokens N] [--temperature T]
//   [--seed S] [--top-k K] [--top-p P] [--stop S] [--chat] [--backend ...] [--activations f32|int16]
//   [--threads N] [--simd auto|relaxed|plain]`
// → streams the generated text to stdout as it is produced; usage to stderr.
import { createEngine } from '../engine/engine.ts';
import { Args } from './args.ts';
import { BACKEND_OPTIONS, backendArgs } from './open-runner.ts';
import { defaultModelPath } from './package-root.ts';

export const options = ['model', ...BACKEND_OPTIONS, 'prompt', 'max-tokens', 'temperature', 'seed', 'top-k', 'top-p', 'stop', 'chat'];

export async function run(argv: string[]): Promise<void> {
  const args = new Args(argv, options);
  const prompt = args.required('prompt');
  const engine = await createEngine({ model: args.string('model') ?? defaultModelPath(), ...backendArgs(args) });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  try {
    const request = {
      maxTokens: args.number('max-tokens', 128),
      temperature: args.number('temperature', 0),
      seed: args.number('seed'),
      topK: args.number('top-k'),
      topP: args.number('top-p'),
      stop: args.string('stop') !== undefined ? [args.string('stop')!] : undefined,
      signal: abort.signal,
      ...(args.flag('chat') ? { messages: [{ role: 'user' as const, content: prompt }] } : { prompt }),
    };
    for await (const event of engine.generate(request)) {
      if (event.type === 'token') { if (event.text) process.stdout.write(event.text); continue; }
      process.stdout.write(`${event.text}\n`);
      const u = event.usage;
      process.stderr.write(`[${event.reason}: ${u.promptTokens} prompt + ${u.completionTokens} generated tokens]\n`);
    }
  } finally {
    await engine.dispose();
  }
}
