// The WGSL gating selects exactly what the CPU (AssemblyScript) gating
// selects: same experts in the same order and the same weights, on random
// logits and on logits full of exact ties (quantized to a few levels), for
// V2-Lite-like (64 experts, top-6), V2-like (160 experts, 8 groups), V3-like
// (sigmoid + correction bias, 256 experts in 8 groups, top-8) and
// Moonlight-like (sigmoid + bias, 64 experts, one group) shapes; and the
// plan's grouping by expert, made on the GPU, is the stable sort the CPU's
// moe_group makes, cut into tiles of ≤ TILE_ROWS rows of one expert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, GatingParams } from '../../src/backend/backend.ts';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import type { GpuRoutePlan } from '../../src/backend/webgpu/moe.ts';
import { TILE_ROWS } from '../../src/backend/webgpu/moe-plan.ts';
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
    gpu = await webgpuBackend();
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

  for (const T of [1, 5, 97]) {
    it(`grouping by expert on the GPU, ${T} tokens: rows sorted by (expert, slot), tiles of ≤ ${TILE_ROWS} rows of one expert`, async () => {
      const { bias: _none, ...params } = CASES[0];
      const E = params.experts;
      const k = params.topK;
      const S = T * k;
      const act = gpu.createActivation(T, E);
      // Quantized logits: many tokens pick the same experts, so tiles fill up.
      gpu.write(act, randomArray(T * E, 500 + T, 4).map((v) => Math.round(v)));
      const plan = gpu.route(act, params) as GpuRoutePlan;
      const words = new Uint32Array(await gpu.rec.readBuffer(plan.buffer, 0, (4 * S + 1 + 3 * plan.maxTiles) * 4));
      gpu.release(act);
      const experts = words.subarray(0, S);
      const bySlot = Array.from({ length: S }, (_, s) => s).sort((a, b) => experts[a] - experts[b] || a - b);
      bySlot.forEach((slot, r) => {
        expect(words[2 * S + r], `row ${r}: its token`).toBe(Math.floor(slot / k));
        expect(words[3 * S + slot], `slot ${slot}: its row`).toBe(r);
      });
      const tiles = words[4 * S];
      expect(tiles, 'tile count within the dispatched bound').toBeLessThanOrEqual(plan.maxTiles);
      let covered = 0;
      for (let i = 0; i < tiles; i++) {
        const [r0, n, e] = words.subarray(4 * S + 1 + 3 * i, 4 * S + 4 + 3 * i);
        expect(r0, `tile ${i} starts where the last ended`).toBe(covered);
        expect(n >= 1 && n <= TILE_ROWS, `tile ${i} holds 1..${TILE_ROWS} rows`).toBe(true);
        for (let r = r0; r < r0 + n; r++) expect(experts[bySlot[r]], `tile ${i} row ${r} is expert ${e}'s`).toBe(e);
        covered += n;
      }
      expect(covered, 'tiles cover every row').toBe(S);
      // Tiles are as few as the grouping allows: one per TILE_ROWS rows of each expert.
      const perExpert = new Map<number, number>();
      for (const e of experts) perExpert.set(e, (perExpert.get(e) ?? 0) + 1);
      expect(tiles).toBe([...perExpert.values()].reduce((a, n) => a + Math.ceil(n / TILE_ROWS), 0));
    });
  }
});
