// The WGSL gating selects exactly what the CPU (AssemblyScript) gating
// selects: same experts in the same order and the same weights, on random
// logits and on logits full of exact ties (quantized to a few levels), for
// V2-Lite-like (64 experts, top-6), V2-like (160 experts, 8 groups), V3-like
// (sigmoid + correction bias, 256 experts in 8 groups, top-8) and
// Moonlight-like (sigmoid + bias, 64 experts, one group) shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, GatingParams } from '../../src/backend/backend.ts';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.ts';
import { randomArray, relError, routeRef } from '../ops/reference.ts';
import { NO_GPU, webgpuBackend } from './gpu-backend.ts';

type Case = Omit<GatingParams, 'bias'> & { label: string; bias?: Float32Array };
const CASES: Case[] = [
  { label: 'V2-Lite greedy', experts: 64, topK: 6, scoring: 'softmax', method: 'greedy', groups: 1, topKGroups: 1, normTopKProb: false, routedScalingFactor: 1 },
  { label: 'V2 group-limited', experts: 160, topK: 6, scoring: 'softmax', method: 'group_limited_greedy', groups: 8, topKGroups: 3, normTopKProb: false, routedScalingFactor: 16 },
  { label: 'normalized top-8 of 256 in 8 groups', experts: 256, topK: 8, scoring: 'softmax', method: 'group_limited_greedy', groups: 8, topKGroups: 4, normTopKProb: true, routedScalingFactor: 2.5 },
  {
    label: 'V3 noaux_tc, top-8 of 256 in 8 groups', experts: 256, topK: 8, scoring: 'sigmoid', method: 'noaux_tc', groups: 8, topKGroups: 4,
    normTopKProb: true, routedScalingFactor: 2.5, bias: randomArray(256, 301, 0.5),
  },
  {
    label: 'Moonlight noaux_tc, top-6 of 64, one group', experts: 64, topK: 6, scoring: 'sigmoid', method: 'noaux_tc', groups: 1, topKGroups: 1,
    normTopKProb: true, routedScalingFactor: 2.446, bias: randomArray(64, 302, 0.5),
  },
];

describe.skipIf(NO_GPU)('route: WGSL gating = CPU gating', () => {
  let gpu: WebGpuBackend;
  let cpu: Backend;
  beforeAll(async () => {
    gpu = await webgpuBackend({ hostRouteMinTokens: Infinity });
    cpu = await createCpuBackend(await loadWasmModuleFromDisk());
  });
  afterAll(() => { gpu?.dispose(); cpu?.dispose(); });

  for (const { bias: biasValues, ...params } of CASES) {
    for (const tied of [false, true]) {
      it(`${params.label}, ${tied ? 'tied (4 levels)' : 'random'} logits, 97 tokens`, async () => {
        const T = 97;
        const E = params.experts;
        let logits = randomArray(T * E, 300 + E, 4);
        if (tied) logits = logits.map((v) => Math.round(v / 2));
        // Tied biases too (two levels), so that biased choices tie exactly.
        const bias = biasValues && (tied ? biasValues.map((v) => (v > 0 ? 0.25 : 0)) : biasValues);
        const planOf = async (b: Backend) => {
          const act = b.createActivation(T, E);
          b.write(act, logits);
          const biasWeight = bias && b.uploadWeight({ name: 'bias', dtype: 'f32', shape: [E], bytes: new Uint8Array(bias.buffer) }, { layer: 0 });
          const plan = await b.readPlan(await b.route(act, { ...params, bias: biasWeight }));
          b.release(act);
          if (biasWeight) b.release(biasWeight);
          return plan;
        };
        const [g, c] = [await planOf(gpu), await planOf(cpu)];
        expect(Array.from(g.experts), 'selected experts, in order').toEqual(Array.from(c.experts));
        const rel = relError(g.weights, c.weights);
        expect(rel, `gate weights: ‖gpu − cpu‖/‖cpu‖ = ${rel}`).toBeLessThan(1e-6);
        // Both against the float64 reference (test/ops/reference.ts).
        const rule = {
          scoring: params.scoring, method: params.method, groups: params.groups, topKGroups: params.topKGroups,
          norm: params.normTopKProb, scale: params.routedScalingFactor, bias,
        };
        const k = params.topK;
        const refWeights: number[] = [];
        for (let t = 0; t < T; t++) {
          const ref = routeRef(logits.subarray(t * E, (t + 1) * E), E, k, rule);
          expect(Array.from(c.experts.subarray(t * k, (t + 1) * k)), `token ${t}: experts = routeRef's`).toEqual(ref.experts);
          refWeights.push(...ref.weights);
        }
        const relRef = relError(c.weights, refWeights);
        expect(relRef, `gate weights: ‖cpu − ref‖/‖ref‖ = ${relRef}`).toBeLessThan(1e-6);
      });
    }
  }
});
