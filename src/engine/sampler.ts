// Turns one position's logits into the next token. Order (as llama.cpp and
// vLLM apply them): repetition penalty (CTRL, over prompt and output) →
// presence/frequency penalties (OpenAI, over output only) → greedy, or
// temperature → top-k → softmax → top-p → min-p → draw with the request's
// seeded PRNG. Reported logprobs are the model's own distribution
// (log-softmax of the raw logits), as vLLM reports them by default.
import { InvalidRequestError, NonFiniteLogitsError } from './errors.ts';
import type { SamplingOptions } from './types.ts';

/** xoshiro128** seeded through splitmix32: small, fast, and the same stream on every runtime. */
export class Prng {
  private s0: number; private s1: number; private s2: number; private s3: number;

  constructor(seed: number) {
    let x = (Math.trunc(seed) ^ Math.trunc(seed / 0x1_0000_0000)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface SampledToken {
  id: number;
  /** log p(id) under the model's distribution, when requested. */
  logprob?: number;
  /** The `topLogprobs` most likely ids with their log p, best first. */
  top?: { id: number; logprob: number }[];
}

interface Resolved {
  greedy: boolean;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  repetitionPenalty: number;
  /** [id, bias] pairs of logit_bias. */
  logitBias: [number, number][];
}

/** Checks ranges and fills defaults; greedy when temperature is 0, or unset with no other sampler. */
export function resolveSampling(options: SamplingOptions, vocabSize: number): Resolved {
  const num = (name: keyof SamplingOptions, value: number | undefined, fallback: number, ok: (v: number) => boolean, range: string): number => {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
      throw new InvalidRequestError(`${name} must be ${range}, got ${String(value)}`, name);
    }
    return value;
  };
  const temperature = num('temperature', options.temperature, 1, (v) => v >= 0 && v <= 2, 'between 0 and 2');
  const topK = num('topK', options.topK, 0, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer (0 = off)');
  const topP = num('topP', options.topP, 1, (v) => v > 0 && v <= 1, 'in (0, 1]');
  const minP = num('minP', options.minP, 0, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const presencePenalty = num('presencePenalty', options.presencePenalty, 0, (v) => v >= -2 && v <= 2, 'between -2 and 2');
  const frequencyPenalty = num('frequencyPenalty', options.frequencyPenalty, 0, (v) => v >= -2 && v <= 2, 'between -2 and 2');
  const repetitionPenalty = num('repetitionPenalty', options.repetitionPenalty, 1, (v) => v > 0 && v <= 10, 'in (0, 10]');
  num('seed', options.seed, 0, (v) => Number.isSafeInteger(v), 'a safe integer');
  const noSampler = options.temperature === undefined && !options.topK && options.topP === undefined && !options.minP;
  return {
    greedy: temperature === 0 || noSampler || topK === 1,
    temperature, topK: Math.min(topK, vocabSize), topP, minP,
    presencePenalty, frequencyPenalty, repetitionPenalty,
    logitBias: resolveLogitBias(options.logitBias, vocabSize),
  };
}

/** logit_bias as [id, bias] pairs: ids are integers in the vocabulary, biases numbers in [−100, 100] (OpenAI's range). */
function resolveLogitBias(bias: SamplingOptions['logitBias'], vocabSize: number): [number, number][] {
  if (bias === undefined || bias === null) return [];
  if (typeof bias !== 'object' || Array.isArray(bias)) throw new InvalidRequestError('logitBias must map token ids to numbers', 'logitBias');
  return Object.entries(bias).map(([key, value]) => {
    const id = Number(key);
    if (!/^\d+$/.test(key) || !Number.isSafeInteger(id) || id >= vocabSize) {
      throw new InvalidRequestError(`logitBias: '${key}' is not a token id of this model (integers 0..${vocabSize - 1})`, 'logitBias');
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < -100 || value > 100) {
      throw new InvalidRequestError(`logitBias: the bias of token ${key} must be a number from -100 to 100, got ${String(value)}`, 'logitBias');
    }
    return [id, value];
  });
}

export class Sampler {
  private readonly config: Resolved;
  private readonly prng: Prng;
  /** Output token → count (presence/frequency penalties). */
  private readonly outputCounts = new Map<number, number>();
  /** Prompt and output tokens (repetition penalty). */
  private readonly seen = new Set<number>();
  private readonly probs: Float32Array;
  private readonly allIds: Uint32Array;

  constructor(options: SamplingOptions, private readonly vocabSize: number, promptIds: readonly number[] = []) {
    this.config = resolveSampling(options, vocabSize);
    this.prng = new Prng(options.seed ?? Math.floor(Math.random() * 0x1_0000_0000));
    for (const id of promptIds) this.seen.add(id);
    this.probs = new Float32Array(vocabSize);
    this.allIds = new Uint32Array(vocabSize);
    for (let i = 0; i < vocabSize; i++) this.allIds[i] = i;
  }

  /** Records a generated token for the penalties. */
  accept(id: number): void {
    this.outputCounts.set(id, (this.outputCounts.get(id) ?? 0) + 1);
    this.seen.add(id);
  }

  /** Samples from `logits` [vocab]; modifies it in place (bias, penalties, temperature). Non-finite logits are an error. */
  sample(logits: Float32Array, report?: { topLogprobs: number }): SampledToken {
    for (let i = 0; i < logits.length; i++) {
      if (!Number.isFinite(logits[i])) throw new NonFiniteLogitsError(i, logits[i]);
    }
    const result: SampledToken = { id: 0 };
    let logZ = 0;
    if (report) {
      logZ = logSumExp(logits);
      result.top = topIds(logits, report.topLogprobs).map((id) => ({ id, logprob: logits[id] - logZ }));
    }
    const raw = report ? logits.slice() : undefined;
    this.applyPenalties(logits);
    result.id = this.config.greedy ? argmax(logits) : this.draw(logits);
    if (raw) result.logprob = raw[result.id] - logZ;
    return result;
  }

  private applyPenalties(logits: Float32Array): void {
    const { repetitionPenalty: rep, presencePenalty: presence, frequencyPenalty: frequency } = this.config;
    for (const [id, bias] of this.config.logitBias) logits[id] += bias;
    if (rep !== 1) {
      for (const id of this.seen) logits[id] = logits[id] > 0 ? logits[id] / rep : logits[id] * rep;
    }
    if (presence !== 0 || frequency !== 0) {
      for (const [id, count] of this.outputCounts) logits[id] -= presence + frequency * count;
    }
  }

  private draw(logits: Float32Array): number {
    const { temperature, topK, topP, minP } = this.config;
    const probs = this.probs;
    // Candidates: all ids, or the top k. Probabilities are softmax(logits / T) over them.
    const ids = topK > 0 ? Uint32Array.from(topIds(logits, topK)) : this.allIds;
    let max = -Infinity;
    for (const id of ids) if (logits[id] > max) max = logits[id];
    let sum = 0;
    for (const id of ids) { const p = Math.exp((logits[id] - max) / temperature); probs[id] = p; sum += p; }
    for (const id of ids) probs[id] /= sum;
    let pmax = 0;
    for (const id of ids) if (probs[id] > pmax) pmax = probs[id];
    let kept = ids;
    if (topP < 1) kept = nucleus(kept, probs, topP);
    if (minP > 0) kept = kept.filter((id) => probs[id] >= minP * pmax);
    let total = 0;
    for (const id of kept) total += probs[id];
    let u = this.prng.next() * total;
    for (const id of kept) {
      u -= probs[id];
      if (u < 0) return id;
    }
    return kept[kept.length - 1];
  }
}

/** The smallest set of most likely ids whose mass reaches `topP` (ties by lower id). */
function nucleus(ids: Uint32Array, probs: Float32Array, topP: number): Uint32Array {
  // Sort only the ids above a threshold whose mass already reaches topP: the
  // nucleus is a prefix of the sorted order, so it lies inside that set.
  let threshold = 1e-3;
  let candidates: Uint32Array;
  for (;;) {
    candidates = ids.filter((id) => probs[id] >= threshold);
    let mass = 0;
    for (const id of candidates) mass += probs[id];
    if (mass >= topP || threshold < 1e-12) break;
    threshold /= 16;
  }
  if (candidates.length === 0) candidates = ids.slice();
  candidates.sort((a, b) => probs[b] - probs[a] || a - b);
  let mass = 0;
  for (let i = 0; i < candidates.length; i++) {
    mass += probs[candidates[i]];
    if (mass >= topP) return candidates.subarray(0, i + 1);
  }
  return candidates;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function logSumExp(values: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/** The k largest entries' ids, best first, ties to the lower id. O(V·log k). */
export function topIds(values: Float32Array, k: number): number[] {
  if (k <= 0) return [];
  // A sorted window of the best k so far; k is small (top_k, top_logprobs ≤ 20 typically).
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (best.length === k && !(v > values[best[k - 1]])) continue;
    let lo = 0, hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[best[mid]] >= v) lo = mid + 1; else hi = mid;
    }
    best.splice(lo, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}
