// `edgeseek <command>`: each command lives in its own module and is loaded on
// demand, so `tokenize` never pays for the model code and vice versa.
import { CliError } from './args.ts';

interface Command { readonly options: readonly string[]; run(argv: string[]): Promise<void> }

const commands: Record<string, () => Promise<Command>> = {
  logits: () => import('./logits.ts'),
  tokenize: () => import('./tokenize.ts'),
  generate: () => import('./generate.ts'),
  serve: () => import('./serve.ts'),
  bench: () => import('./bench.ts'),
};

const usage = `usage: edgeseek <command> [options]
  logits    --model PATH --ids 1,2,3 [--backend cpu|webgpu] [--out FILE]
  tokenize  --tokenizer PATH (--text S | --file F) [--out FILE]
  generate  --model PATH --prompt S [--max-tokens N] [--temperature T] [--seed S] [--backend ...]
  serve     [--model PATH] [--port P] [--backend ...]
  bench     --model PATH [--backend ...] [--prompt-tokens N] [--gen-tokens N]
Every command that loads a model also takes --activations f32|int16 (default int16 for
Q8_0/Q4_0/Q4_K/Q6_K weights; f32 is the exact path), --threads N and --simd auto|relaxed|plain.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const load = name ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`${name ? `edgeseek: unknown command '${name}'\n` : ''}${usage}\n`);
    return 2;
  }
  try {
    const command = await load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`usage: edgeseek ${name} ${command.options.map((o) => `[--${o}]`).join(' ')}\n${usage}\n`);
      return 0;
    }
    await command.run(rest);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`edgeseek ${name}: ${message}\n`);
    return error instanceof CliError ? 2 : 1;
  }
}
