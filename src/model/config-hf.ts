// Hugging Face config.json (model_type deepseek_v2, or deepseek_v3: V2's
// architecture with the sigmoid / noaux_tc router) → ModelConfig. Every field
// that changes the math is read and checked; an unknown or unsupported value is
// an error naming the field, never a silent default.
import type { ModelConfig, YarnScaling } from './config.ts';

export class ConfigError extends Error {}

type Json = Record<string, unknown>;

export function parseHfConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(`${file}: expected a JSON object`);
  }
  const c = json as Json;
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${file}: ${field} ${message}`);
  };
  const int = (field: string, min = 1, fallback?: number): number => {
    const value = c[field] ?? fallback;
    if (value === undefined) return fail(field, 'is missing');
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      return fail(field, `must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const num = (field: string, fallback?: number, positive = true): number => {
    const value = c[field] ?? fallback;
    if (value === undefined) return fail(field, 'is missing');
    if (typeof value !== 'number' || !Number.isFinite(value) || (positive && value <= 0)) {
      return fail(field, `must be a ${positive ? 'positive ' : ''}number, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const bool = (field: string, fallback?: boolean): boolean => {
    const value = c[field] ?? fallback;
    if (value === undefined) return fail(field, 'is missing');
    if (typeof value !== 'boolean') return fail(field, `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  };

  if (c.model_type !== 'deepseek_v2' && c.model_type !== 'deepseek_v3') {
    fail('model_type', `must be "deepseek_v2" or "deepseek_v3", got ${JSON.stringify(c.model_type)}`);
  }
  const v3 = c.model_type === 'deepseek_v3';
  if (c.hidden_act !== undefined && c.hidden_act !== 'silu') fail('hidden_act', `must be "silu", got ${JSON.stringify(c.hidden_act)}`);
  // Each model type's MoEGate implements one scoring function: V2 softmax, V3 sigmoid (noaux_tc).
  const scoring = c.scoring_func ?? (v3 ? 'sigmoid' : 'softmax');
  if (scoring !== (v3 ? 'sigmoid' : 'softmax')) {
    fail('scoring_func', `${JSON.stringify(scoring)} is not supported for model_type ${JSON.stringify(c.model_type)} (deepseek_v2 scores with "softmax", deepseek_v3 with "sigmoid")`);
  }
  const topkMethod = c.topk_method ?? (v3 ? 'noaux_tc' : 'greedy');
  const methods = v3 ? ['noaux_tc'] : ['greedy', 'group_limited_greedy'];
  if (!methods.includes(topkMethod as string)) {
    fail('topk_method', `${JSON.stringify(topkMethod)} is not supported for model_type ${JSON.stringify(c.model_type)} (${methods.join(' | ')})`);
  }
  // Layers past num_hidden_layers (DeepSeek-V3's multi-token-prediction module) are never loaded.
  int('num_nextn_predict_layers', 0, 0);
  if (c.attention_bias === true) fail('attention_bias', 'true is not supported (DeepSeek-V2 has no attention bias)');

  const qLoraRank = c.q_lora_rank === null || c.q_lora_rank === undefined ? null : int('q_lora_rank');
  const nRoutedExperts = c.n_routed_experts === null || c.n_routed_experts === undefined ? 0 : int('n_routed_experts', 0);
  // DeepSeek-V3's routing fields have no safe default (its config class and HF's differ): required.
  const v3Routing = v3 && nRoutedExperts > 0;
  const config: ModelConfig = {
    hiddenSize: int('hidden_size'),
    numLayers: int('num_hidden_layers'),
    numHeads: int('num_attention_heads'),
    qLoraRank,
    kvLoraRank: int('kv_lora_rank'),
    qkNopeHeadDim: int('qk_nope_head_dim', 0),
    qkRopeHeadDim: int('qk_rope_head_dim'),
    vHeadDim: int('v_head_dim'),
    intermediateSize: int('intermediate_size'),
    moeIntermediateSize: nRoutedExperts > 0 ? int('moe_intermediate_size') : int('moe_intermediate_size', 0, 0),
    nRoutedExperts,
    nSharedExperts: c.n_shared_experts === null ? 0 : int('n_shared_experts', 0, 0),
    numExpertsPerTok: nRoutedExperts > 0 ? int('num_experts_per_tok') : 0,
    firstKDenseReplace: int('first_k_dense_replace', 0, 0),
    moeLayerFreq: int('moe_layer_freq', 1, 1),
    topkMethod: topkMethod as ModelConfig['topkMethod'],
    nGroup: int('n_group', 1, v3Routing ? undefined : 1),
    topkGroup: int('topk_group', 1, v3Routing ? undefined : 1),
    normTopkProb: bool('norm_topk_prob', v3Routing ? undefined : false),
    routedScalingFactor: num('routed_scaling_factor', v3Routing ? undefined : 1),
    scoringFunc: scoring as ModelConfig['scoringFunc'],
    ropeTheta: num('rope_theta', 10000),
    ropeScaling: parseRopeScaling(c.rope_scaling, fail),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    vocabSize: int('vocab_size'),
    maxPositionEmbeddings: int('max_position_embeddings'),
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    bosTokenId: optionalId(c.bos_token_id),
    eosTokenId: optionalId(c.eos_token_id),
  };
  return validateConfig(config, file);
}

function optionalId(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function parseRopeScaling(value: unknown, fail: (field: string, message: string) => never): YarnScaling | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return fail('rope_scaling', 'must be an object or null');
  const r = value as Json;
  if (r.type !== 'yarn') {
    return fail('rope_scaling.type', `${JSON.stringify(r.type)} is not supported (only "yarn", as DeepSeek-V2 uses)`);
  }
  const n = (key: string, fallback: number): number => {
    const v = r[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`rope_scaling.${key}`, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const factor = n('factor', NaN);
  if (!(factor >= 1)) fail('rope_scaling.factor', `must be ≥ 1, got ${JSON.stringify(r.factor)}`);
  const original = n('original_max_position_embeddings', 4096);
  if (!Number.isInteger(original) || original < 1) fail('rope_scaling.original_max_position_embeddings', 'must be a positive integer');
  // Defaults as DeepseekV2YarnRotaryEmbedding's constructor.
  return {
    type: 'yarn',
    factor,
    originalMaxPositionEmbeddings: original,
    betaFast: n('beta_fast', 32),
    betaSlow: n('beta_slow', 1),
    mscale: n('mscale', 1),
    mscaleAllDim: n('mscale_all_dim', 0),
  };
}

/** Cross-field checks shared by both config sources. */
export function validateConfig(config: ModelConfig, file: string): ModelConfig {
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`${file}: ${field} ${message}`);
  };
  if (config.qkRopeHeadDim % 2 !== 0) fail('qk_rope_head_dim', `must be even, got ${config.qkRopeHeadDim}`);
  if (config.nRoutedExperts > 0) {
    if (config.numExpertsPerTok > config.nRoutedExperts) {
      fail('num_experts_per_tok', `(${config.numExpertsPerTok}) exceeds n_routed_experts (${config.nRoutedExperts})`);
    }
    if (config.topkMethod !== 'greedy') {
      if (config.nRoutedExperts % config.nGroup !== 0) {
        fail('n_group', `(${config.nGroup}) must divide n_routed_experts (${config.nRoutedExperts})`);
      }
      if (config.topkGroup > config.nGroup) fail('topk_group', `(${config.topkGroup}) exceeds n_group (${config.nGroup})`);
      if (config.topkGroup * (config.nRoutedExperts / config.nGroup) < config.numExpertsPerTok) {
        fail('topk_group', `keeps ${config.topkGroup} groups of ${config.nRoutedExperts / config.nGroup} experts, fewer than num_experts_per_tok (${config.numExpertsPerTok})`);
      }
    }
    if (config.topkMethod === 'noaux_tc' && config.nGroup > 1 && config.nRoutedExperts / config.nGroup < 2) {
      fail('n_group', `(${config.nGroup}) leaves groups of one expert; noaux_tc scores a group by its two best experts`);
    }
  }
  if (config.bosTokenId !== undefined && config.bosTokenId >= config.vocabSize) {
    fail('bos_token_id', `(${config.bosTokenId}) is outside the vocabulary (${config.vocabSize})`);
  }
  return config;
}
