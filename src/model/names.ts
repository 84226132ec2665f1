// One table of tensor names per format (HF safetensors, llama.cpp GGUF
// `deepseek2`). The loader asks for logical tensors; only this file knows how
// each format spells them.

export type GlobalTensor = 'embed' | 'norm' | 'lmHead';
export type LayerTensor =
  | 'attnNorm' | 'qProj' | 'qA' | 'qANorm' | 'qB' | 'kvA' | 'kvANorm' | 'kvB' | 'kB' | 'vB' | 'o'
  | 'ffnNorm' | 'gate' | 'up' | 'down' | 'router' | 'routerBias'
  | 'gateExps' | 'upExps' | 'downExps' | 'gateShexp' | 'upShexp' | 'downShexp';

export const HF_GLOBAL: Record<GlobalTensor, string> = {
  embed: 'model.embed_tokens.weight',
  norm: 'model.norm.weight',
  lmHead: 'lm_head.weight',
};

const HF_LAYER: Record<Exclude<LayerTensor, 'kB' | 'vB' | 'gateExps' | 'upExps' | 'downExps'>, string> = {
  attnNorm: 'input_layernorm.weight',
  qProj: 'self_attn.q_proj.weight',
  qA: 'self_attn.q_a_proj.weight',
  qANorm: 'self_attn.q_a_layernorm.weight',
  qB: 'self_attn.q_b_proj.weight',
  kvA: 'self_attn.kv_a_proj_with_mqa.weight',
  kvANorm: 'self_attn.kv_a_layernorm.weight',
  kvB: 'self_attn.kv_b_proj.weight',
  o: 'self_attn.o_proj.weight',
  ffnNorm: 'post_attention_layernorm.weight',
  gate: 'mlp.gate_proj.weight',
  up: 'mlp.up_proj.weight',
  down: 'mlp.down_proj.weight',
  router: 'mlp.gate.weight',
  routerBias: 'mlp.gate.e_score_correction_bias', // DeepSeek-V3 (noaux_tc)
  gateShexp: 'mlp.shared_experts.gate_proj.weight',
  upShexp: 'mlp.shared_experts.up_proj.weight',
  downShexp: 'mlp.shared_experts.down_proj.weight',
};

const HF_EXPERT: Record<'gateExps' | 'upExps' | 'downExps', string> = {
  gateExps: 'gate_proj', upExps: 'up_proj', downExps: 'down_proj',
};

export function hfLayerName(layer: number, tensor: LayerTensor): string {
  const name = (HF_LAYER as Record<string, string>)[tensor];
  if (!name) throw new Error(`no single HF tensor for ${tensor}`);
  return `model.layers.${layer}.${name}`;
}

/** HF stores routed experts one by one; they are stacked at load. */
export function hfExpertName(layer: number, expert: number, tensor: 'gateExps' | 'upExps' | 'downExps'): string {
  return `model.layers.${layer}.mlp.experts.${expert}.${HF_EXPERT[tensor]}.weight`;
}

export const GGUF_GLOBAL: Record<GlobalTensor, string> = {
  embed: 'token_embd.weight',
  norm: 'output_norm.weight',
  lmHead: 'output.weight',
};

const GGUF_LAYER: Record<LayerTensor, string> = {
  attnNorm: 'attn_norm', qProj: 'attn_q', qA: 'attn_q_a', qANorm: 'attn_q_a_norm', qB: 'attn_q_b',
  kvA: 'attn_kv_a_mqa', kvANorm: 'attn_kv_a_norm', kvB: 'attn_kv_b', kB: 'attn_k_b', vB: 'attn_v_b',
  o: 'attn_output', ffnNorm: 'ffn_norm', gate: 'ffn_gate', up: 'ffn_up', down: 'ffn_down',
  router: 'ffn_gate_inp', routerBias: 'exp_probs_b', gateExps: 'ffn_gate_exps', upExps: 'ffn_up_exps', downExps: 'ffn_down_exps',
  gateShexp: 'ffn_gate_shexp', upShexp: 'ffn_up_shexp', downShexp: 'ffn_down_shexp',
};

export function ggufLayerName(layer: number, tensor: LayerTensor): string {
  // llama.cpp's converter renames e_score_correction_bias to e_score_correction.bias: a ".bias".
  return `blk.${layer}.${GGUF_LAYER[tensor]}.${tensor === 'routerBias' ? 'bias' : 'weight'}`;
}
