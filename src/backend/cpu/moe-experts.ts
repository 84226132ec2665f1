// The routed-experts op on the CPU backend: (token, slot) pairs grouped by
// expert with the Wasm moe_group kernel, so each expert's weights are read
// once per batch; gather the tokens' rows, SwiGLU expert, weighted
// scatter-add into the output. A row's experts are added in expert order and
// each expert matmul is batch-invariant, so the row's sums do not depend on
// which other rows chose the same experts.
import { bytesFor, viewOf, type ExpertWeights, type Operand, type RoutePlan } from '../backend.ts';
import type { CpuContext } from './cpu-context.ts';
import type { CpuRoutePlan, CpuWeight } from './cpu-types.ts';
import type { CpuActivation } from './shards.ts';

export function routedExperts(ctx: CpuContext, x: Operand, plan: RoutePlan, experts: ExpertWeights, out: Operand): void {
  const p = plan as CpuRoutePlan;
  const gate = experts.gate as CpuWeight;
  const up = experts.up as CpuWeight;
  const down = experts.down as CpuWeight;
  const [E, I, H] = gate.shape;
  // Group the (token, slot) pairs by expert (moe_group, in Wasm) so each
  // expert's weights are read once per batch.
  const home = ctx.shards.home(viewOf(x).act as CpuActivation);
  const slots = p.tokens * p.topK;
  const idx = ctx.scratch.get(home, 5, slots * 4);
  const counts = ctx.scratch.get(home, 6, E * 4);
  const order = ctx.scratch.get(home, 7, (slots + E) * 4);
  ctx.instances[home].i32().set(p.experts, idx / 4);
  ctx.kernels(home).moe_group(idx, p.tokens, p.topK, E, counts, order);
  // Each expert sees at most one row per token. Every step runs in the memory
  // of its weight; in a single-memory model nothing is ever copied.
  const xs = ctx.internalActivation('moe.x', p.tokens, H);
  const g = ctx.internalActivation('moe.g', p.tokens, I);
  const u = ctx.internalActivation('moe.u', p.tokens, I);
  const d = ctx.internalActivation('moe.d', p.tokens, H);
  const rows = ctx.scratch.get(home, 3, p.tokens * 4);
  const weights = ctx.scratch.get(home, 4, p.tokens * 4);
  let first = 0;
  for (let e = 0; e < E; e++) {
    const i32 = ctx.instances[home].i32();
    const n = i32[counts / 4 + e];
    if (n === 0) continue;
    const f32 = ctx.instances[home].f32();
    for (let i = 0; i < n; i++) {
      const slot = i32[order / 4 + first + i];
      i32[rows / 4 + i] = (slot / p.topK) | 0;
      f32[weights / 4 + i] = p.weights[slot];
    }
    first += n;
    const xv = ctx.at(x, home, 'read');
    ctx.kernels(home).gather_rows(xv.ptr, xv.stride, rows, n, H, ctx.shards.locate(xs, home, 'write'));
    expertMatmul(ctx, gate, e, xs, g, n);
    expertMatmul(ctx, up, e, xs, u, n);
    const gs = ctx.shards.home(g);
    ctx.kernels(gs).swiglu(
      ctx.shards.locate(g, gs, 'readwrite'), I, ctx.shards.locate(u, gs, 'read'), I, ctx.shards.locate(g, gs, 'readwrite'), I, n, I,
    );
    expertMatmul(ctx, down, e, g, d, n);
    const ov = ctx.at(out, home, 'readwrite');
    ctx.kernels(home).scatter_add_rows(ctx.shards.locate(d, home, 'read'), H, rows, weights, n, ov.ptr, ov.stride);
  }
}

/** out[0..n) = W[e] · x[0..n) for one expert of a stacked [E, N, K] weight, in the weight's memory. */
function expertMatmul(ctx: CpuContext, w: CpuWeight, e: number, x: CpuActivation, out: CpuActivation, n: number): void {
  const [, N, K] = w.shape;
  const xPtr = ctx.shards.locate(x, w.shard, 'read');
  const outPtr = ctx.shards.locate(out, w.shard, 'write');
  ctx.dispatch.matmul(w.shard, w.dtype, w.ptr + e * bytesFor(w.dtype, [N, K]), xPtr, K, outPtr, N, N, K, n);
}
