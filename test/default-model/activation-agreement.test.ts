// The default activation mode of quantized weights (int16, integer kernels)
// against the exact path (activations: 'f32') on the trained default model,
// quantized to each type with an integer kernel at load, over its held-out reference text — how
// llama.cpp judges a quantization (llama-perplexity --kl-divergence): top-1
// agreement ≥ 99 % and mean KL(exact ‖ int16) ≤ 1e-3 nats per token (README
// "Integer activations" records the measured figures). Both SIMD builds.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { argmax } from '../support/logits.ts';
import { openRunner } from '../support/runner.ts';

const DIR = fileURLToPath(new URL('../../models/default/', import.meta.url));
const reference = JSON.parse(readFileSync(`${DIR}/reference/golden.json`, 'utf8')) as { sequences: { ids: number[] }[] };

/** KL(p ‖ q) in nats between the softmaxes of two logit rows, in float64. */
export function klDivergence(p: Float32Array, q: Float32Array): number {
  const logSoftmax = (row: Float32Array) => {
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    const log = Math.log(sum) + max;
    return Float64Array.from(row, (v) => v - log);
  };
  const lp = logSoftmax(p);
  const lq = logSoftmax(q);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  return kl;
}

async function allLogits(runner: ModelRunner, ids: number[]): Promise<Float32Array> {
  const seq = runner.newSequence(ids.length);
  const logits = await runner.forward(seq, ids, { allLogits: true });
  runner.release(seq);
  return logits;
}

for (const quantize of ['q8_0', 'q4_0', 'q4_k', 'q6_k', 'q5_0', 'q5_k', 'q5_1', 'q4_1', 'iq4_nl', 'iq4_xs'] as const) for (const simd of ['relaxed', 'plain'] as const) {
  describe(`default model quantized to ${quantize} at load, ${simd} SIMD: default activations against the exact path`, () => {
    let exact: ModelRunner;
    let fast: ModelRunner;
    beforeAll(async () => {
      exact = await openRunner(DIR, { quantize, simd, activations: 'f32' });
      fast = await openRunner(DIR, { quantize, simd });
    });
    afterAll(() => { exact?.dispose(); fast?.dispose(); });

    it('runs int16 activations by default and f32 when asked', () => {
      expect(fast.activations).toBe('int16');
      expect(exact.activations).toBe('f32');
    });

    it('top-1 agreement ≥ 99 % and mean KL ≤ 1e-3 nats per token over the held-out text', async () => {
      const V = exact.config.vocabSize;
      let positions = 0;
      let agree = 0;
      let kl = 0;
      let worstKl = 0;
      for (const { ids } of reference.sequences) {
        const want = await allLogits(exact, ids);
        const got = await allLogits(fast, ids);
        for (let p = 0; p < ids.length; p++) {
          const a = want.subarray(p * V, (p + 1) * V);
          const b = got.subarray(p * V, (p + 1) * V);
          if (argmax(a) === argmax(b)) agree++;
          const d = klDivergence(a, b);
          kl += d;
          worstKl = Math.max(worstKl, d);
          positions++;
        }
      }
      const top1 = agree / positions;
      console.log(`${quantize} ${simd}: int16 vs f32 over ${positions} positions: top-1 ${(100 * top1).toFixed(2)} %, mean KL ${(kl / positions).toExponential(2)}, max KL ${worstKl.toExponential(2)}`);
      expect(positions).toBe(272);
      expect(top1, `top-1 agreement ${agree}/${positions}`).toBeGreaterThanOrEqual(0.99);
      expect(kl / positions, `mean KL ${kl / positions} nats per token`).toBeLessThanOrEqual(1e-3);
    });
  });
}
