// The sampler: each knob does what OpenAI/vLLM users expect, and a seed fixes the draw.
import { describe, expect, it } from 'vitest';
import { Prng, Sampler, topIds } from '../../src/engine/sampler.ts';
import { InvalidRequestError } from '../../src/engine/errors.ts';

const logitsOf = (values: number[]) => Float32Array.from(values);
const draws = (options: ConstructorParameters<typeof Sampler>[0], values: number[], n: number) => {
  const sampler = new Sampler(options, values.length);
  return Array.from({ length: n }, () => sampler.sample(logitsOf(values)).id);
};

describe('Prng', () => {
  it('is a pure function of the seed (reproducible streams across requests)', () => {
    const a = new Prng(42), b = new Prng(42), c = new Prng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
  });
  it('is roughly uniform in [0, 1)', () => {
    const p = new Prng(7);
    let sum = 0;
    for (let i = 0; i < 10000; i++) { const u = p.next(); expect(u).toBeGreaterThanOrEqual(0); expect(u).toBeLessThan(1); sum += u; }
    expect(sum / 10000).toBeCloseTo(0.5, 1);
  });
});

describe('Sampler', () => {
  const values = [1, 3, 2.5, -1, 0.5];
  it('temperature 0 is greedy (argmax, ties to the lower id)', () => {
    expect(draws({ temperature: 0 }, values, 5)).toEqual([1, 1, 1, 1, 1]);
    expect(draws({ temperature: 0 }, [2, 5, 5], 1)).toEqual([1]);
  });
  it('no sampler options at all is greedy, as the engine contract says', () => {
    expect(draws({}, values, 3)).toEqual([1, 1, 1]);
  });
  it('same seed ⇒ same tokens; different seeds differ', () => {
    const flat = Array.from({ length: 50 }, (_, i) => Math.sin(i));
    expect(draws({ temperature: 1, seed: 5 }, flat, 30)).toEqual(draws({ temperature: 1, seed: 5 }, flat, 30));
    expect(draws({ temperature: 1, seed: 5 }, flat, 30)).not.toEqual(draws({ temperature: 1, seed: 6 }, flat, 30));
  });
  it('top_k keeps only the k most likely ids', () => {
    expect(new Set(draws({ temperature: 2, topK: 2, seed: 1 }, values, 300))).toEqual(new Set([1, 2]));
  });
  it('top_p keeps the smallest set reaching the mass', () => {
    // softmax([5, 4, 0, 0]) ≈ [.72, .26, .01, .01]: top_p 0.9 keeps ids 0 and 1.
    expect(new Set(draws({ temperature: 1, topP: 0.9, seed: 3 }, [5, 4, 0, 0], 400))).toEqual(new Set([0, 1]));
  });
  it('min_p drops ids below min_p × p(max)', () => {
    // p ∝ e^[2, 1.5, 0]: p1/p0 = .61 > .5 kept; p2/p0 = .14 dropped.
    expect(new Set(draws({ temperature: 1, minP: 0.5, seed: 3 }, [2, 1.5, 0], 400))).toEqual(new Set([0, 1]));
  });
  it('the empirical distribution at temperature 1 follows softmax', () => {
    const counts = [0, 0];
    for (const id of draws({ temperature: 1, seed: 11 }, [Math.log(3), 0], 4000)) counts[id]++;
    expect(counts[0] / 4000).toBeCloseTo(0.75, 1);
  });
  it('frequency and presence penalties push repeated output tokens down', () => {
    const sampler = new Sampler({ temperature: 0, frequencyPenalty: 1, presencePenalty: 0.5 }, 3);
    sampler.accept(0);
    // 3 - (0.5 + 1) = 1.5 < 2
    expect(sampler.sample(logitsOf([3, 2, 0])).id).toBe(1);
  });
  it('repetition penalty divides positive and multiplies negative logits of seen tokens (prompt included)', () => {
    const sampler = new Sampler({ temperature: 0, repetitionPenalty: 2 }, 3, [0]);
    expect(sampler.sample(logitsOf([3, 2, 0])).id).toBe(1); // 3/2 = 1.5 < 2
  });
  it('reports the model logprob of the chosen token and the top alternatives', () => {
    const sampler = new Sampler({ temperature: 0 }, 3);
    const out = sampler.sample(logitsOf([0, Math.log(3), 0]), { topLogprobs: 2 });
    expect(out.id).toBe(1);
    expect(out.logprob).toBeCloseTo(Math.log(0.6), 5);
    expect(out.top!.map((t) => t.id)).toEqual([1, 0]);
    expect(out.top![1].logprob).toBeCloseTo(Math.log(0.2), 5);
  });
  it('rejects out-of-range options with the parameter named', () => {
    expect(() => new Sampler({ temperature: -1 }, 3)).toThrow(InvalidRequestError);
    expect(() => new Sampler({ topP: 0 }, 3)).toThrow(/topP/);
    expect(() => new Sampler({ topK: 1.5 }, 3)).toThrow(/topK/);
  });
  it('topIds returns the k best, best first, ties to the lower id', () => {
    expect(topIds(logitsOf([1, 5, 5, 2, 9]), 3)).toEqual([4, 1, 2]);
  });
});
