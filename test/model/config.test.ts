// Config parsing: HF config.json and GGUF deepseek2.* metadata describe the
// same model identically; every design.md field is read; bad values name the field.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { parseHfConfig } from '../../src/model/config-hf.ts';
import { configFromGguf } from '../../src/model/config-gguf.ts';
import { isMoeLayer } from '../../src/model/config.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { GOLDEN_DIR } from '../support/golden.ts';

const hfJson = JSON.parse(readFileSync(`${GOLDEN_DIR}/config.json`, 'utf8'));

describe('model config', () => {
  it('tiny-a: GGUF metadata gives the same config as config.json', async () => {
    const hf = (await openCheckpoint(await fsSource(GOLDEN_DIR))).config;
    for (const file of ['model.gguf', 'model-q8_0.gguf']) {
      const gguf = (await openCheckpoint(await fsSource(`${GOLDEN_DIR}/${file}`))).config;
      expect({ ...gguf, rmsNormEps: Math.fround(gguf.rmsNormEps) }, file).toEqual({ ...hf, rmsNormEps: Math.fround(hf.rmsNormEps) });
    }
  });

  it('DeepSeek-V3 fixtures: GGUF metadata (expert_gating_func 2, group counts) gives the same config as config.json', async () => {
    const fixtures = new URL('../fixtures/models/', import.meta.url).pathname;
    for (const [model, files] of [['v3-noaux', ['model-f32.gguf', 'model-q8_0.gguf']], ['v3-grouped', ['model-q8_0.gguf']]] as const) {
      const hf = (await openCheckpoint(await fsSource(`${fixtures}/${model}`))).config;
      expect([hf.scoringFunc, hf.topkMethod], model).toEqual(['sigmoid', 'noaux_tc']);
      for (const file of files) {
        const gguf = (await openCheckpoint(await fsSource(`${fixtures}/${model}/${file}`))).config;
        expect({ ...gguf, rmsNormEps: Math.fround(gguf.rmsNormEps), routedScalingFactor: Math.fround(gguf.routedScalingFactor) }, `${model}/${file}`)
          .toEqual({ ...hf, rmsNormEps: Math.fround(hf.rmsNormEps), routedScalingFactor: Math.fround(hf.routedScalingFactor) });
      }
    }
  });

  it('GGUF: blocks counted in nextn_predict_layers (a kept multi-token-prediction module) are not layers', async () => {
    const fixtures = new URL('../fixtures/models/', import.meta.url).pathname;
    const { ggufMetadata: metadata, config } = await openCheckpoint(await fsSource(`${fixtures}/v3-noaux/model-f32.gguf`));
    const withMtp = { ...metadata!, 'deepseek2.block_count': config.numLayers + 1, 'deepseek2.nextn_predict_layers': 1 };
    expect(configFromGguf(withMtp, 'm.gguf', config.vocabSize, true).numLayers).toBe(config.numLayers);
    expect(() => configFromGguf({ ...withMtp, 'deepseek2.nextn_predict_layers': 4 }, 'm.gguf', config.vocabSize, true))
      .toThrow(/m\.gguf: deepseek2\.nextn_predict_layers \(4\) leaves no layers of block_count \(4\)/);
  });

  it('reads every field that changes the math', () => {
    const c = parseHfConfig({
      ...hfJson, q_lora_rank: null, topk_method: 'group_limited_greedy', n_group: 4, topk_group: 2, n_routed_experts: 16,
      num_experts_per_tok: 3, norm_topk_prob: true, routed_scaling_factor: 2.5, first_k_dense_replace: 2, moe_layer_freq: 2,
      n_shared_experts: 0, tie_word_embeddings: true, num_hidden_layers: 6,
      rope_scaling: { type: 'yarn', factor: 40, original_max_position_embeddings: 4096, beta_fast: 32, beta_slow: 1, mscale: 0.707, mscale_all_dim: 0.707 },
    });
    expect(c.qLoraRank).toBeNull();
    expect(c.topkMethod).toBe('group_limited_greedy');
    expect([c.nGroup, c.topkGroup, c.nRoutedExperts, c.numExpertsPerTok]).toEqual([4, 2, 16, 3]);
    expect([c.normTopkProb, c.routedScalingFactor, c.nSharedExperts, c.tieWordEmbeddings]).toEqual([true, 2.5, 0, true]);
    expect(c.ropeScaling).toMatchObject({ factor: 40, originalMaxPositionEmbeddings: 4096, mscale: 0.707, mscaleAllDim: 0.707 });
    expect([0, 1, 2, 3, 4, 5].map((l) => isMoeLayer(c, l)), 'dense below first_k_dense_replace, then every moe_layer_freq-th').toEqual([false, false, true, false, true, false]);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['model_type', { model_type: 'llama' }, /model_type must be "deepseek_v2" or "deepseek_v3", got "llama"/],
    ['scoring_func', { scoring_func: 'sigmoid' }, /scoring_func "sigmoid" is not supported for model_type "deepseek_v2"/],
    ['scoring_func (unknown)', { scoring_func: 'sqrtsoftplus' }, /scoring_func "sqrtsoftplus" is not supported/],
    ['topk_method', { topk_method: 'noaux_tc' }, /topk_method "noaux_tc" is not supported/],
    ['rope_scaling.type', { rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling\.type "linear" is not supported/],
    ['hidden_size', { hidden_size: 'big' }, /hidden_size must be an integer/],
    ['n_group', { topk_method: 'group_limited_greedy', n_group: 3, topk_group: 1 }, /n_group \(3\) must divide n_routed_experts \(8\)/],
    ['num_experts_per_tok', { num_experts_per_tok: 9 }, /num_experts_per_tok \(9\) exceeds n_routed_experts \(8\)/],
    ['qk_rope_head_dim', { qk_rope_head_dim: 7 }, /qk_rope_head_dim must be even/],
  ];
  for (const [field, patch, message] of bad) {
    it(`an invalid ${field} is an error naming it`, () => {
      expect(() => parseHfConfig({ ...hfJson, ...patch })).toThrow(message);
    });
  }

  // DeepSeek-V3 / R1 / Moonlight: V2's architecture with the sigmoid + correction-bias router.
  const v3Json = {
    ...hfJson, model_type: 'deepseek_v3', architectures: ['DeepseekV3ForCausalLM'], scoring_func: 'sigmoid', topk_method: 'noaux_tc',
    n_routed_experts: 16, n_group: 4, topk_group: 2, num_experts_per_tok: 3, norm_topk_prob: true, routed_scaling_factor: 2.5,
    num_nextn_predict_layers: 1,
  };

  it('deepseek_v3: sigmoid scoring, noaux_tc, groups, norm and scale', () => {
    const c = parseHfConfig(v3Json);
    expect([c.scoringFunc, c.topkMethod, c.nGroup, c.topkGroup, c.normTopkProb, c.routedScalingFactor]).toEqual(['sigmoid', 'noaux_tc', 4, 2, true, 2.5]);
    expect(c.numLayers, 'the multi-token-prediction layer is not one of the model\'s layers').toBe(hfJson.num_hidden_layers);
    const { scoring_func: _s, topk_method: _t, ...implicit } = v3Json;
    expect(parseHfConfig(implicit), 'V3\'s MoEGate implements sigmoid / noaux_tc only: they are its defaults').toEqual(c);
  });

  const badV3: [string, Record<string, unknown>, RegExp][] = [
    ['scoring_func', { scoring_func: 'softmax' }, /scoring_func "softmax" is not supported for model_type "deepseek_v3"/],
    ['topk_method', { topk_method: 'group_limited_greedy' }, /topk_method "group_limited_greedy" is not supported for model_type "deepseek_v3" \(noaux_tc\)/],
    ['routed_scaling_factor', { routed_scaling_factor: undefined }, /routed_scaling_factor is missing/],
    ['norm_topk_prob', { norm_topk_prob: null }, /norm_topk_prob is missing/],
    ['n_group', { n_group: 16, topk_group: 4 }, /n_group \(16\) leaves groups of one expert/],
    ['topk_group', { topk_group: 5 }, /topk_group \(5\) exceeds n_group \(4\)/],
    ['num_nextn_predict_layers', { num_nextn_predict_layers: -1 }, /num_nextn_predict_layers must be an integer ≥ 0/],
  ];
  for (const [field, patch, message] of badV3) {
    it(`deepseek_v3: an invalid ${field} is an error naming it`, () => {
      expect(() => parseHfConfig({ ...v3Json, ...patch })).toThrow(message);
    });
  }
});
