// GGUF `deepseek2.*` metadata (llama.cpp's converter) → ModelConfig.
import type { ModelConfig, YarnScaling } from './config.ts';
import { ConfigError, validateConfig } from './config-hf.ts';
import type { GgufMetadata } from './gguf.ts';

export function configFromGguf(metadata: GgufMetadata, file: string, vocabRows: number | undefined, hasOutput: boolean): ModelConfig {
  const arch = metadata['general.architecture'];
  if (arch !== 'deepseek2') {
    throw new ConfigError(`${file}: general.architecture must be "deepseek2", got ${JSON.stringify(arch)}`);
  }
  const key = (name: string): string => `deepseek2.${name}`;
  const fail = (name: string, message: string): never => {
    throw new ConfigError(`${file}: ${key(name)} ${message}`);
  };
  const get = (name: string): unknown => {
    const value = metadata[key(name)];
    return typeof value === 'bigint' ? Number(value) : value;
  };
  const int = (name: string, fallback?: number, min = 0): number => {
    const value = get(name) ?? fallback;
    if (value === undefined) return fail(name, 'is missing');
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) return fail(name, `must be an integer ≥ ${min}, got ${String(value)}`);
    return value;
  };
  const num = (name: string, fallback?: number): number => {
    const value = get(name) ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) return fail(name, `must be a number, got ${String(value)}`);
    return value;
  };

  const heads = int('attention.head_count', undefined, 1);
  const rope = int('rope.dimension_count', undefined, 2);
  // Converters with the split attn_k_b/attn_v_b layout describe the MQA view in
  // key_length/value_length and the per-head sizes in *_mla.
  const keyLength = get('attention.key_length_mla') !== undefined ? int('attention.key_length_mla') : int('attention.key_length');
  const valueLength = get('attention.value_length_mla') !== undefined ? int('attention.value_length_mla') : int('attention.value_length');
  const qLora = int('attention.q_lora_rank', 0);
  const experts = int('expert_count', 0);
  const groups = int('expert_group_count', 1, 1);
  // llama_expert_gating_func_type: 1 softmax (DeepSeek-V2; also when absent, as
  // llama.cpp assumes for older V2 files), 2 sigmoid with blk.N.exp_probs_b.bias
  // (DeepSeek-V3's noaux_tc router).
  const gating = int('expert_gating_func', 1);
  if (gating !== 1 && gating !== 2) fail('expert_gating_func', `${gating} is not supported (1 = softmax, 2 = sigmoid)`);
  const sigmoid = gating === 2;
  // A file that keeps the multi-token-prediction blocks counts them last in block_count; they are skipped.
  const blocks = int('block_count', undefined, 1);
  const nextn = int('nextn_predict_layers', 0);
  if (nextn >= blocks) fail('nextn_predict_layers', `(${nextn}) leaves no layers of block_count (${blocks})`);
  const vocab = int('vocab_size', vocabRows ?? (metadata['tokenizer.ggml.tokens'] as unknown[] | undefined)?.length, 1);
  const tokenizerId = (name: string): number | undefined => {
    const value = metadata[`tokenizer.ggml.${name}`];
    return typeof value === 'number' ? value : undefined;
  };
  const config: ModelConfig = {
    hiddenSize: int('embedding_length', undefined, 1),
    numLayers: blocks - nextn,
    numHeads: heads,
    qLoraRank: qLora > 0 ? qLora : null,
    kvLoraRank: int('attention.kv_lora_rank', undefined, 1),
    qkNopeHeadDim: keyLength - rope,
    qkRopeHeadDim: rope,
    vHeadDim: valueLength,
    intermediateSize: int('feed_forward_length', undefined, 1),
    moeIntermediateSize: int('expert_feed_forward_length', 0),
    nRoutedExperts: experts,
    nSharedExperts: int('expert_shared_count', 0),
    numExpertsPerTok: experts > 0 ? int('expert_used_count', undefined, 1) : 0,
    firstKDenseReplace: int('leading_dense_block_count', 0),
    moeLayerFreq: 1,
    topkMethod: sigmoid ? 'noaux_tc' : groups > 1 ? 'group_limited_greedy' : 'greedy',
    nGroup: groups,
    topkGroup: int('expert_group_used_count', 1, 1),
    normTopkProb: Boolean(get('expert_weights_norm') ?? false),
    routedScalingFactor: num('expert_weights_scale', 1),
    scoringFunc: sigmoid ? 'sigmoid' : 'softmax',
    ropeTheta: num('rope.freq_base', 10000),
    ropeScaling: ropeScaling(get, fail),
    rmsNormEps: num('attention.layer_norm_rms_epsilon', 1e-6),
    vocabSize: vocab,
    maxPositionEmbeddings: int('context_length', undefined, 1),
    tieWordEmbeddings: !hasOutput,
    bosTokenId: tokenizerId('bos_token_id'),
    eosTokenId: tokenizerId('eos_token_id'),
  };
  if (config.qkNopeHeadDim < 0) fail('attention.key_length', `(${keyLength}) is smaller than rope.dimension_count (${rope})`);
  return validateConfig(config, file);
}

function ropeScaling(get: (name: string) => unknown, fail: (name: string, message: string) => never): YarnScaling | null {
  const type = get('rope.scaling.type');
  if (type === undefined || type === 'none') return null;
  if (type !== 'yarn') return fail('rope.scaling.type', `${JSON.stringify(type)} is not supported (only "yarn")`);
  const factor = get('rope.scaling.factor');
  const original = get('rope.scaling.original_context_length');
  if (typeof factor !== 'number' || factor < 1) return fail('rope.scaling.factor', `must be ≥ 1, got ${String(factor)}`);
  if (typeof original !== 'number') return fail('rope.scaling.original_context_length', 'is missing');
  // llama.cpp stores 0.1 · mscale_all_dim as yarn_log_multiplier and assumes
  // mscale == mscale_all_dim (true of every DeepSeek-V2 release), with its
  // default beta_fast/beta_slow of 32/1.
  const logMultiplier = get('rope.scaling.yarn_log_multiplier');
  const mscaleAllDim = typeof logMultiplier === 'number' ? logMultiplier / 0.1 : 0;
  return {
    type: 'yarn', factor, originalMaxPositionEmbeddings: original,
    betaFast: 32, betaSlow: 1, mscale: mscaleAllDim || 1, mscaleAllDim,
  };
}
