// DeepSeekMoE on the GPU: route.wgsl selects the experts and groups the
// selection by expert (moe-plan.ts), so moe.wgsl runs a grouped matmul over
// each expert's rows — all recorded into the step's one submit. Only selected
// experts are read.
import { checkGating, type GatingParams, type RoutePlan } from '../backend.ts';
import { maxTiles, planWords } from './moe-plan.ts';
import { splitGroups } from './recorder.ts';
import type { GpuWeight } from './resources.ts';
import { gpuTypeCode, threadsPerRow } from './weight-layout.ts';
import type { Strided, WebGpuBackend } from './webgpu-backend.ts';

export interface GpuRoutePlan extends RoutePlan {
  readonly buffer: GPUBuffer;
  /** Tiles dispatched for (the plan's own tile count, at most this, is on the GPU). */
  readonly maxTiles: number;
  readonly experts: number;
}

const MAX_EXPERTS = 256;
const MAX_GROUPS = 64;
const MAX_TOP_K = 64;

const METHOD_CODE = { greedy: 0, group_limited_greedy: 1, noaux_tc: 2 } as const;

export function routeOnGpu(b: WebGpuBackend, logits: Strided, g: GatingParams): GpuRoutePlan {
  const T = logits.rows;
  const { experts: E, topK: k } = g;
  const bias = checkGating(g) as GpuWeight | undefined;
  if (E > MAX_EXPERTS || g.groups > MAX_GROUPS || k > MAX_TOP_K) {
    throw new Error(`route: ${E} experts, ${g.groups} groups, top-${k}: the WGSL gating handles ≤ ${MAX_EXPERTS} experts, ≤ ${MAX_GROUPS} groups, k ≤ ${MAX_TOP_K}`);
  }
  if (logits.cols !== E) throw new Error(`route: router logits have ${logits.cols} columns for ${E} experts`);
  const buffer = b.resources.scratchBuffer(`route.${T}x${k}x${E}`, planWords(T, k, E) * 4);
  const params = b.rec.params([
    T, E, k, METHOD_CODE[g.method], g.groups, g.topKGroups, g.normTopKProb ? 1 : 0, g.routedScalingFactor,
    logits.offset, logits.stride, g.scoring === 'sigmoid' ? 1 : 0,
  ], new Set([7]));
  // Without a bias the binding still needs a buffer; the shader reads it only for noaux_tc.
  const biasBuffer = bias ? bias.parts[0].buffer : logits.buffer;
  b.rec.dispatch('route', b.rec.pipeline('route', 'main'), { 0: params, 1: logits.buffer, 2: buffer, 3: biasBuffer }, Math.ceil(T / 64));
  b.rec.dispatch('route group', b.rec.pipeline('route', 'group'), { 0: params, 2: buffer }, 1);
  return { tokens: T, topK: k, buffer, maxTiles: maxTiles(T, k, E), experts: E };
}

export function recordMoeExperts(
  b: WebGpuBackend, x: Strided, plan: GpuRoutePlan, gate: GpuWeight, up: GpuWeight, down: GpuWeight, out: Strided,
): void {
  const [E, I, H] = gate.shape;
  if (E !== plan.experts) throw new Error(`moeExperts: ${gate.name} holds ${E} experts, the route plan ${plan.experts}`);
  if (x.cols !== H || out.cols !== H) throw new Error(`moeExperts: x has ${x.cols} and out ${out.cols} columns, ${gate.name} expects ${H}`);
  const S = plan.tokens * plan.topK;
  const rows = (purpose: string, cols: number): Strided =>
    ({ buffer: b.resources.scratchBuffer(purpose, S * cols * 4), offset: 0, stride: cols, rows: S, cols });
  const g = rows('moe.gate', I);
  const u = rows('moe.up', I);
  const d = rows('moe.down', H);
  expertMatmul(b, gate, x, plan, true, g);
  expertMatmul(b, up, x, plan, true, u);
  b.elementwise('swiglu', g, u, g);
  expertMatmul(b, down, g, plan, false, d);

  const groups = Math.ceil((plan.tokens * H) / 64);
  const [gx] = splitGroups(groups);
  const params = b.rec.params([H, 0, 0, 0, 0, 0, 0, 0, plan.maxTiles, S, plan.topK, gx, out.offset, out.stride, plan.tokens]);
  b.rec.dispatch('moe combine', b.rec.pipeline('moe', 'combine'), { 0: params, 3: plan.buffer, 4: d.buffer, 5: out.buffer }, groups);
}

/** y[r, :] = W[expert(r)] · x[gather ? token(r) : r] over the plan's tiles, one dispatch per weight part. */
function expertMatmul(b: WebGpuBackend, w: GpuWeight, x: Strided, plan: GpuRoutePlan, gather: boolean, y: Strided): void {
  const tpr = threadsPerRow(w.K);
  const pipeline = b.rec.pipeline('moe', 'expert_matmul', { WDTYPE: gpuTypeCode(w.dtype), TPR: tpr });
  const S = plan.tokens * plan.topK;
  const groups = Math.ceil((w.N * tpr) / 64) * plan.maxTiles;
  const [gx] = splitGroups(groups);
  for (const part of w.parts) {
    const params = b.rec.params([
      w.N, w.K, part.qBase, gather ? 1 : 0, x.offset, x.stride, part.row0 / w.N, part.rows / w.N,
      plan.maxTiles, S, plan.topK, gx,
    ]);
    b.rec.dispatch(`moe ${w.name}`, pipeline, { 0: params, 1: x.buffer, 2: part.buffer, 3: plan.buffer, 4: y.buffer }, groups);
  }
}
