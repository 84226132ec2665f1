// Rotary embedding tables (design.md "YaRN"), computed in float64 from the
// config and handed to the backend per forward step as f32 (cos, sin) pairs.
// Reference: DeepseekV2RotaryEmbedding / DeepseekV2YarnRotaryEmbedding and
// yarn_* helpers in modeling_deepseek.py.
import type { ModelConfig } from './config.ts';

export function yarnGetMscale(scale: number, mscale: number): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

function yarnFindCorrectionDim(rotations: number, dim: number, base: number, maxPositions: number): number {
  return (dim * Math.log(maxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
}

/** Per rotary pair j < dim/2: the frequency, and the factor on cos/sin. */
export interface RopeFrequencies {
  readonly invFreq: Float64Array;
  readonly attentionFactor: number;
}

export function ropeFrequencies(config: ModelConfig): RopeFrequencies {
  const dim = config.qkRopeHeadDim;
  const base = config.ropeTheta;
  const half = dim / 2;
  const invFreq = new Float64Array(half);
  for (let j = 0; j < half; j++) invFreq[j] = 1 / base ** ((2 * j) / dim);
  const yarn = config.ropeScaling;
  if (!yarn) return { invFreq, attentionFactor: 1 };
  let low = Math.floor(yarnFindCorrectionDim(yarn.betaFast, dim, base, yarn.originalMaxPositionEmbeddings));
  let high = Math.ceil(yarnFindCorrectionDim(yarn.betaSlow, dim, base, yarn.originalMaxPositionEmbeddings));
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001;
  for (let j = 0; j < half; j++) {
    const ramp = Math.min(1, Math.max(0, (j - low) / (high - low)));
    const extrapolate = 1 - ramp;
    const extra = invFreq[j];
    const inter = extra / yarn.factor;
    invFreq[j] = inter * (1 - extrapolate) + extra * extrapolate;
  }
  const attentionFactor = yarnGetMscale(yarn.factor, yarn.mscale) / yarnGetMscale(yarn.factor, yarn.mscaleAllDim);
  return { invFreq, attentionFactor };
}

/** (nope + rope)^-0.5, times mscale² under YaRN (DeepseekV2Attention.__init__). */
export function softmaxScale(config: ModelConfig): number {
  let scale = (config.qkNopeHeadDim + config.qkRopeHeadDim) ** -0.5;
  const yarn = config.ropeScaling;
  if (yarn && yarn.mscaleAllDim) {
    const m = yarnGetMscale(yarn.factor, yarn.mscaleAllDim);
    scale *= m * m;
  }
  return scale;
}

/**
 * cosSin[(r·dim/2 + j)·2 + {0,1}] = (cos, sin)(positions[r] · invFreq[j]) · attentionFactor
 * for each row r (a batch's rows each have their own position).
 *
 * HF de-interleaves the rotary dims ((d/2, 2) → transpose) and then applies
 * rotate_half; that equals rotating each adjacent pair (x[2j], x[2j+1]) by
 * angle j, up to the same permutation of q and k, which a dot product cannot
 * see — so the backends rotate pairs in place and cache k_pe that way.
 */
export function ropeCosSin(freqs: RopeFrequencies, positions: ArrayLike<number>, out?: Float32Array): Float32Array {
  const half = freqs.invFreq.length;
  const table = out ?? new Float32Array(positions.length * half * 2);
  for (let r = 0; r < positions.length; r++) {
    const position = positions[r];
    for (let j = 0; j < half; j++) {
      const angle = position * freqs.invFreq[j];
      table[(r * half + j) * 2] = Math.cos(angle) * freqs.attentionFactor;
      table[(r * half + j) * 2 + 1] = Math.sin(angle) * freqs.attentionFactor;
    }
  }
  return table;
}
