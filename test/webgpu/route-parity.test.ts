// The WGSL gating selects exactly what the CPU (AssemblyScript) gating
// selects: same experts in the same order and the same weights, on random
// logits and on logits full of exact ties (quantized to a few levels), for
// V2-Lite-like (64 experts, top-6) and V2-like (160 experts, 8 groups) shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, GatingParams } from '../../src/backend/backend.ts';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.ts';
import { randomArray, relError } from '../ops/reference.ts';
import { NO_GPU, webgpuBackend } from './gpu-backend.ts';

const CASES: (GatingParams & { label: string })[] = [
  { label: 'V2-Lite greedy', experts: 64, topK: 6, method: 'greedy', groups: 1, topKGroups: 1, normTopKProb: false, routedScalingFactor: 1 },
  { label: 'V2 group-limited', experts: 160, topK: 6, method: 'group_limited_greedy', groups: 8, topKGroups: 3, normTopKProb: false, routedScalingFactor: 16 },
  { label: 'normalized top-8 of 256 in 8 groups', experts: 256, topK: 8, method: 'group_limited_greedy', groups: 8, topKGroups: 4, normTopKProb: true, routedScalingFactor: 2.5 },
];

describe.skipIf(NO_GPU)('route: WGSL gating = CPU gating', () => {
  let gpu: WebGpuBackend;
  let cpu: Backend;
  beforeAll(async () => {
    gpu = await webgpuBackend({ hostRouteMinTokens: Infinity });
    cpu = await createCpuBackend(await loadWasmModuleFromDisk());
  });
  afterAll(() => { gpu?.dispose(); cpu?.dispose(); });

  for (const params of CASES) {
    for (const tied of [false, true]) {
      it(`${params.label}, ${tied ? 'tied (4 levels)' : 'random'} logits, 97 tokens`, async () => {
        const T = 97;
        const E = params.experts;
        let logits = randomArray(T * E, 300 + E, 4);
        if (tied) logits = logits.map((v) => Math.round(v / 2));
        const planOf = async (b: Backend) => {
          const act = b.createActivation(T, E);
          b.write(act, logits);
          const plan = await b.readPlan(await b.route(act, params));
          b.release(act);
          return plan;
        };
        const [g, c] = [await planOf(gpu), await planOf(cpu)];
        expect(Array.from(g.experts), 'selected experts, in order').toEqual(Array.from(c.experts));
        const rel = relError(g.weights, c.weights);
        expect(rel, `gate weights: ‖gpu − cpu‖/‖cpu‖ = ${rel}`).toBeLessThan(1e-6);
      });
    }
  }
});
