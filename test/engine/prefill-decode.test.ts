// The latent cache is the only state between steps: prefill of N tokens then a
// decode step gives the logits of one prefill of N + 1 tokens (≤ 1e-5
// relative), however the prompt is chunked and however memory is sharded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { GOLDEN_DIR, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';
import { openRunner } from '../support/runner.ts';
import { NO_GPU } from '../webgpu/gpu-backend.ts';

const ids = readGolden().sequences[1].ids; // 33 tokens

describe('prefill then decode equals one prefill (tiny-a, CPU)', () => {
  let runner: ModelRunner;
  beforeAll(async () => { runner = await openRunner(GOLDEN_DIR); });
  afterAll(() => runner?.dispose());

  it('N = 32 prefill + 1 decode vs prefill of 33', async () => {
    const V = runner.config.vocabSize;
    const whole = runner.newSequence(ids.length);
    const all = await runner.forward(whole, ids, { allLogits: true });
    runner.release(whole);
    const seq = runner.newSequence(ids.length);
    await runner.forward(seq, ids.slice(0, -1));
    const decoded = await runner.forward(seq, ids.slice(-1));
    runner.release(seq);
    const rel = relativeError(decoded, all.subarray((ids.length - 1) * V));
    expect(rel, `‖decode − prefill‖/‖prefill‖ = ${rel}`).toBeLessThanOrEqual(1e-5);
  });

  it('token-by-token decode of the whole sequence matches the batched prefill at every position', async () => {
    const V = runner.config.vocabSize;
    const whole = runner.newSequence(ids.length);
    const all = await runner.forward(whole, ids, { allLogits: true });
    runner.release(whole);
    const seq = runner.newSequence(ids.length);
    for (let p = 0; p < ids.length; p++) {
      const step = await runner.forward(seq, [ids[p]]);
      const rel = relativeError(step, all.subarray(p * V, (p + 1) * V));
      expect(rel, `position ${p}: ‖step − batch‖/‖batch‖ = ${rel}`).toBeLessThanOrEqual(1e-5);
    }
    runner.release(seq);
  });

  it.each((['cpu', 'webgpu'] as const).filter((b) => b === 'cpu' || !NO_GPU))('a prompt prefilled in chunks of 7 on %s gives the same logits as one batch', async (backend) => {
    const chunked = await openRunner(GOLDEN_DIR, { maxBatch: 7, backend });
    try {
      const a = runner.newSequence(ids.length);
      const b = chunked.newSequence(ids.length);
      const whole = await runner.forward(a, ids, { allLogits: true });
      const pieces = await chunked.forward(b, ids, { allLogits: true });
      const rel = relativeError(pieces, whole);
      expect(rel, `‖chunked − whole‖/‖whole‖ = ${rel}`).toBeLessThanOrEqual(1e-5);
      runner.release(a);
    } finally {
      chunked.dispose();
    }
  });

  it('weights spread over several Wasm memories give the same logits', async () => {
    const sharded = await openRunner(GOLDEN_DIR, { shardWeightBytes: 256 * 1024 });
    try {
      const a = runner.newSequence(ids.length);
      const b = sharded.newSequence(ids.length);
      const one = await runner.forward(a, ids, { allLogits: true });
      const many = await sharded.forward(b, ids, { allLogits: true });
      runner.release(a);
      expect((sharded.backend as unknown as { shardCount: number }).shardCount, 'memories in use').toBeGreaterThan(2);
      const rel = relativeError(many, one);
      expect(rel, `‖sharded − single‖/‖single‖ = ${rel}`).toBeLessThanOrEqual(1e-6);
    } finally {
      sharded.dispose();
    }
  });
});

describe('multi-threaded CPU backend (2 threads, every matmul split)', () => {
  it('gives the golden logits and the same greedy continuation as one thread', async () => {
    const { readF32 } = await import('../support/golden.ts');
    const { greedyContinuation } = await import('../support/greedy.ts');
    const golden = readGolden();
    const threaded = await openRunner(GOLDEN_DIR, { threads: 2, parallelMinMacs: 0 });
    try {
      const sequence = golden.sequences[1];
      const V = threaded.config.vocabSize;
      const seq = threaded.newSequence(sequence.ids.length);
      const logits = await threaded.forward(seq, sequence.ids, { allLogits: true });
      threaded.release(seq);
      const ref = readF32(`${GOLDEN_DIR}/${sequence.logits_file}`);
      for (let p = 0; p < sequence.ids.length; p++) {
        const rel = relativeError(logits.subarray(p * V, (p + 1) * V), ref.subarray(p * V, (p + 1) * V));
        expect(rel, `position ${p}: ‖Δ‖/‖ref‖ = ${rel}`).toBeLessThanOrEqual(1e-4);
      }
      const greedy = golden.greedy[0];
      expect(await greedyContinuation(threaded, greedy.prompt_ids, greedy.continuation_ids.length)).toEqual(greedy.continuation_ids);
    } finally {
      threaded.dispose();
    }
  });
});
