// One forward step over rows of several sequences (decode rows and prefill
// chunks, a ragged batch through block tables) gives every row the logits of
// that sequence run alone, within the golden tolerance — on the CPU backend
// in each mode and on WebGPU; a prefix served from cached blocks gives the
// logits of recomputing it; and on WebGPU a step is one submit and one read-back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.ts';
import { loadWasmThreadsModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { LatentCacheManager, type SequenceBlocks } from '../../src/engine/latent-cache-manager.ts';
import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { GOLDEN_DIR, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';
import { openRunner } from '../support/runner.ts';
import { NO_GPU } from '../webgpu/gpu-backend.ts';

const golden = readGolden();
const A = golden.sequences[2].ids.slice(0, 41);
const B = golden.sequences[1].ids; // 33 tokens
const C = golden.sequences[0].ids; // 8 tokens
/** A's first 40 tokens, then its own continuation: shares A's first two 16-position blocks. */
const D = [...A.slice(0, 40), 5, 17, 3];

interface Chunk { seq: SequenceBlocks; tokens: readonly number[]; from: number; to: number }

/** The step of several sequences' chunks, every row asking for logits. */
function stepOf(chunks: Chunk[]) {
  const ids: number[] = [];
  const positions: number[] = [];
  const tableStart: number[] = [];
  const blocks: number[] = [];
  for (const { seq, tokens, from, to } of chunks) {
    const start = blocks.length;
    blocks.push(...seq.table);
    for (let p = from; p < to; p++) { ids.push(tokens[p]); positions.push(p); tableStart.push(start); }
  }
  return {
    ids: Int32Array.from(ids), positions: Int32Array.from(positions), tableStart: Int32Array.from(tableStart),
    blocks: Int32Array.from(blocks), logitRows: Int32Array.from(ids, (_, t) => t),
  };
}

/** CPU kernels are batch-invariant (README "Continuous batching"): a row's logits are the bits of its sequence alone. */
const MODES = [
  { name: 'cpu', options: {}, tolerance: 0 },
  { name: 'cpu int16 (Q8_0 at load)', options: { quantize: 'q8_0' as const, activations: 'int16' as const }, tolerance: 0 },
  { name: 'cpu 2 threads', options: { threads: 2, parallelMinMacs: 0 }, threads: true, tolerance: 0 },
  ...(NO_GPU ? [] : [{ name: 'webgpu', options: { backend: 'webgpu' as const }, tolerance: 1e-4 }]),
];

for (const mode of MODES) {
  describe(`batched forward step (tiny-a, ${mode.name})`, () => {
    let runner: ModelRunner;
    const alone = new Map<readonly number[], Float32Array>();
    const { tolerance } = mode;
    beforeAll(async () => {
      runner = await openRunner(GOLDEN_DIR, { ...mode.options, ...(mode.threads ? { threadsModule: await loadWasmThreadsModuleFromDisk() } : {}) });
      for (const ids of [A, B, C, D]) {
        const seq = runner.newSequence(ids.length);
        alone.set(ids, await runner.forward(seq, ids, { allLogits: true }));
        runner.release(seq);
      }
    });
    afterAll(() => runner?.dispose());

    /** Each row's logits against its sequence's logits at that position when run alone. */
    function expectAlone(logits: Float32Array, chunks: Chunk[], what: string): void {
      const V = runner.config.vocabSize;
      let row = 0;
      for (const { tokens, from, to } of chunks) {
        for (let p = from; p < to; p++, row++) {
          const ref = alone.get(tokens)!.subarray(p * V, (p + 1) * V);
          const rel = relativeError(logits.subarray(row * V, (row + 1) * V), ref);
          expect(rel, `${what}, row ${row} (position ${p} of a ${tokens.length}-token sequence): ‖batched − alone‖/‖alone‖ = ${rel.toExponential(2)}`).toBeLessThanOrEqual(tolerance);
        }
      }
    }

    it('prefill chunks and decode rows of three sequences in shared steps: every row as alone', async () => {
      const m = new LatentCacheManager(runner.blocks, runner.blockSize);
      const [a, b, c] = [A, B, C].map((ids) => m.open(ids, ids.length)!.seq);
      try {
        const steps: Chunk[][] = [
          [{ seq: a, tokens: A, from: 0, to: 17 }, { seq: b, tokens: B, from: 0, to: 33 }, { seq: c, tokens: C, from: 0, to: 1 }],
          [{ seq: c, tokens: C, from: 1, to: 7 }, { seq: a, tokens: A, from: 17, to: 40 }],
          // Decode rows of all three, in another order than they were admitted.
          [{ seq: c, tokens: C, from: 7, to: 8 }, { seq: a, tokens: A, from: 40, to: 41 }],
        ];
        for (const [i, chunks] of steps.entries()) expectAlone(await runner.step(stepOf(chunks)), chunks, `step ${i + 1}`);
      } finally {
        for (const s of [a, b, c]) m.close(s);
      }
      expect(runner.blocks.inUse, 'every block released').toBe(0);
    });

    it('a prefix served from cached blocks gives the logits of recomputing it', async () => {
      const m = new LatentCacheManager(runner.blocks, runner.blockSize);
      const first = m.open(A, A.length)!;
      expect(first.cachedTokens).toBe(0);
      await runner.step(stepOf([{ seq: first.seq, tokens: A, from: 0, to: 41 }]));
      m.commit(first.seq, A, 41);
      m.close(first.seq);
      const second = m.open(D, D.length)!;
      try {
        expect(second.cachedTokens, 'two full blocks of A reused').toBe(2 * runner.blockSize);
        const chunks = [{ seq: second.seq, tokens: D, from: second.cachedTokens, to: D.length }];
        expectAlone(await runner.step(stepOf(chunks)), chunks, 'after a prefix hit');
      } finally {
        m.close(second.seq);
      }
    });

    it.runIf(mode.name === 'webgpu')('a step is one submit and one read-back for the whole batch', async () => {
      const rec = (runner.backend as WebGpuBackend).rec;
      const m = new LatentCacheManager(runner.blocks, runner.blockSize);
      const [a, b] = [A, B].map((ids) => m.open(ids, ids.length)!.seq);
      try {
        // Grow the cache first: growing is a copy of its own.
        await runner.step(stepOf([{ seq: a, tokens: A, from: 0, to: 20 }, { seq: b, tokens: B, from: 0, to: 20 }]));
        const before = { ...rec.counts };
        await runner.step(stepOf([{ seq: a, tokens: A, from: 20, to: 21 }, { seq: b, tokens: B, from: 20, to: 30 }]));
        expect({ submits: rec.counts.submits - before.submits, readBacks: rec.counts.readBacks - before.readBacks }).toEqual({ submits: 1, readBacks: 1 });
      } finally {
        m.close(a);
        m.close(b);
      }
    });
  });
}
