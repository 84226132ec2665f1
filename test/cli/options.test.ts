// Every command names the options it accepts: a misspelt option is an error
// that lists the accepted ones (never a silently ignored setting), and --help
// prints usage without running anything.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/edgeseek.js', import.meta.url));

describe('edgeseek options', () => {
  it('an unknown option exits 2 naming it and the accepted options', async () => {
    const failure = await run('node', [BIN, 'bench', '--model', 'x', '--thread', '2']).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('unknown option --thread');
    expect(failure.stderr).toContain('--threads');
  });

  it('a count that is not a whole number in range exits 2 naming the option', async () => {
    const failure = await run('node', [BIN, 'bench', '--model', 'x', '--prompt-tokens', '-5']).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain("--prompt-tokens must be an integer ≥ 1, got '-5'");
  });

  it('--quantize names the block types it accepts', async () => {
    const failure = await run('node', [BIN, 'logits', '--model', 'x', '--ids', '1', '--quantize', 'q4_km']).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(/--quantize must be one of q8_0, q4_0, .*q4_k, q5_k, q6_k, iq4_xs, got 'q4_km'/);
  });

  it('serve checks its batching limits like every count', async () => {
    const failure = await run('node', [BIN, 'serve', '--model', 'x', '--step-tokens', '0']).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain("--step-tokens must be an integer ≥ 1, got '0'");
  });

  it('--help after a command prints its options and exits 0 without running it', async () => {
    const { stdout } = await run('node', [BIN, 'bench', '--help']);
    expect(stdout).toContain('usage: edgeseek bench');
    expect(stdout).toContain('[--activations]');
    expect(stdout).not.toContain('prefill_tok_s');
  });

  it('every command that loads a model takes --activations, --threads and --simd, each checked', async () => {
    for (const command of ['logits', 'generate', 'serve', 'bench']) {
      const { stdout } = await run('node', [BIN, command, '--help']);
      for (const option of ['--activations', '--threads', '--simd']) expect(stdout, `${command} ${option}`).toContain(`[${option}]`);
    }
    const bad = await run('node', [BIN, 'bench', '--model', 'x', '--activations', 'int8']).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--activations must be f32 or int16, got 'int8'");
    const simd = await run('node', [BIN, 'generate', '--prompt', 'x', '--simd', 'fast']).catch((e) => e);
    expect(simd.code).toBe(2);
    expect(simd.stderr).toContain("--simd must be auto, relaxed, plain, got 'fast'");
  });

  it('--help alone prints the command list and exits 0', async () => {
    const { stdout } = await run('node', [BIN, '--help']);
    expect(stdout).toContain('usage: edgeseek <command>');
  });
});
