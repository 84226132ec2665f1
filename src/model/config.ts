// The one typed model config (design.md "The model"), from a Hugging Face
// config.json (config-hf.ts; model_type deepseek_v2 or deepseek_v3) or GGUF
// deepseek2.* metadata (config-gguf.ts). DeepSeek-V3 keeps V2's architecture;
// only the router differs (scoringFunc, topkMethod noaux_tc).

export interface YarnScaling {
  readonly type: 'yarn';
  readonly factor: number;
  readonly originalMaxPositionEmbeddings: number;
  readonly betaFast: number;
  readonly betaSlow: number;
  readonly mscale: number;
  readonly mscaleAllDim: number;
}

export interface ModelConfig {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** null ⇒ q_proj instead of q_a_proj / q_a_layernorm / q_b_proj. */
  readonly qLoraRank: number | null;
  readonly kvLoraRank: number;
  readonly qkNopeHeadDim: number;
  readonly qkRopeHeadDim: number;
  readonly vHeadDim: number;
  readonly intermediateSize: number;
  readonly moeIntermediateSize: number;
  /** 0 ⇒ every layer is dense. */
  readonly nRoutedExperts: number;
  readonly nSharedExperts: number;
  readonly numExpertsPerTok: number;
  readonly firstKDenseReplace: number;
  readonly moeLayerFreq: number;
  /** greedy | group_limited_greedy (DeepSeek-V2, softmax); noaux_tc (DeepSeek-V3, sigmoid + e_score_correction_bias). */
  readonly topkMethod: 'greedy' | 'group_limited_greedy' | 'noaux_tc';
  readonly nGroup: number;
  readonly topkGroup: number;
  readonly normTopkProb: boolean;
  readonly routedScalingFactor: number;
  readonly scoringFunc: 'softmax' | 'sigmoid';
  readonly ropeTheta: number;
  readonly ropeScaling: YarnScaling | null;
  readonly rmsNormEps: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
  readonly tieWordEmbeddings: boolean;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
}

/** design.md: layer l is MoE when experts exist, l ≥ first_k_dense_replace and l % moe_layer_freq == 0. */
export function isMoeLayer(config: ModelConfig, layer: number): boolean {
  return config.nRoutedExperts > 0 && layer >= config.firstKDenseReplace && layer % config.moeLayerFreq === 0;
}
