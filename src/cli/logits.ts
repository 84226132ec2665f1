// `edgeseek logits --model PATH --ids 1,2,3 [--backend cpu|webgpu] [--out FILE]`
// → {"vocab": V, "positions": N, "logits": [[V floats] × N]} on stdout, or the
// raw little-endian f32 [N × V] to FILE and the header (without logits) on stdout.
import { writeFile } from 'node:fs/promises';
import { Args, CliError } from './args.ts';
import { openRunnerFromArgs, RUNNER_OPTIONS } from './open-runner.ts';

export const options = [...RUNNER_OPTIONS, 'ids', 'out'];

export async function run(argv: string[]): Promise<void> {
  const args = new Args(argv, options);
  const idsText = args.required('ids');
  const ids = idsText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`--ids: '${s}' is not a token id`);
    return n;
  });
  if (ids.length === 0) throw new CliError('--ids: no token ids given');
  const out = args.string('out');
  const runner = await openRunnerFromArgs(args);
  try {
    const vocab = runner.config.vocabSize;
    const seq = runner.newSequence(ids.length);
    const logits = await runner.forward(seq, ids, { allLogits: true });
    const header = { vocab, positions: ids.length };
    if (out) {
      await writeFile(out, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
      process.stdout.write(`${JSON.stringify(header)}\n`);
      return;
    }
    const rows: string[] = [];
    for (let p = 0; p < ids.length; p++) rows.push(`[${Array.from(logits.subarray(p * vocab, (p + 1) * vocab)).join(',')}]`);
    process.stdout.write(`{"vocab":${vocab},"positions":${ids.length},"logits":[${rows.join(',')}]}\n`);
  } finally {
    runner.dispose();
  }
}
