// The absorbed MLA op on the CPU backend (design.md "Absorbed decode"): per
// head q_lat = W_UKᵀ·q_nope, then mla_attend over the latent cache (scores
// against c and k_pe, softmax, Σ p·c), then W_UV·o_lat. Each step runs in the
// Wasm memory of its weight or of the cache.
import {
  bytesFor, viewOf, type AbsorbedAttentionWeights, type LatentCache, type MlaShape, type Operand,
} from '../backend.ts';
import type { CpuContext } from './cpu-context.ts';
import type { CpuWeight } from './cpu-types.ts';
import { rowScratchBytes } from './kernel-exports.ts';
import { weightType } from '../../model/weight-types.ts';

export function absorbedAttention(
  ctx: CpuContext, q: Operand, cache: LatentCache, layer: number, pos0: number,
  weights: AbsorbedAttentionWeights, shape: MlaShape, out: Operand,
): void {
  const { shard, ptr: cachePtr } = ctx.cacheLayer(cache, layer);
  const { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr } = shape;
  const T = viewOf(q).act.rows;
  if (pos0 + T > cache.capacity) throw new RangeError(`attention past the latent cache (${pos0 + T} > ${cache.capacity})`);
  const wkb = weights.wkb as CpuWeight;
  const wvb = weights.wvb as CpuWeight;
  const qlat = ctx.internalActivation('qlat', T, heads * kvr);
  const olat = ctx.internalActivation('olat', T, heads * kvr);
  const qHead = nope + rope;
  // q_lat[t, h] = W_UKᵀ[h] · q_nope[t, h]: one [kvr, nope] matrix per head.
  {
    const qv = ctx.at(q, wkb.shard, 'read');
    const qlatPtr = ctx.shards.locate(qlat, wkb.shard, 'write');
    const headBytes = bytesFor(wkb.dtype, [kvr, nope]);
    const xq = ctx.dispatch.quantizeHeads(wkb.shard, wkb.dtype, qv.ptr, qv.stride, qHead, heads, nope, T);
    const rows = xq ? ctx.dispatch.scratchFor(wkb.shard, heads, xq.scratchBytes) : ctx.dispatch.rowScratch(wkb.shard, heads, nope);
    const kernels = weightType(wkb.dtype).cpu;
    ctx.dispatch.runCalls(wkb.shard, Array.from({ length: heads }, (_, h) => (xq ? {
      kernel: xq.kernel,
      args: [wkb.ptr + h * headBytes, xq.ptr + h * xq.headBytes, qlatPtr + h * kvr * 4, heads * kvr, kvr, nope, T, rows + h * xq.scratchBytes],
    } : {
      kernel: kernels.matmul,
      args: [wkb.ptr + h * headBytes, qv.ptr + h * qHead * 4, qv.stride, qlatPtr + h * kvr * 4, heads * kvr, kvr, nope, T, rows + h * rowScratchBytes(nope)],
    })), kvr * nope * T * heads);
  }
  // Scores against c and k_pe, softmax, o_lat = Σ p·c — the cache stays latent.
  {
    const qv = ctx.at(q, shard, 'read');
    const qlatPtr = ctx.shards.locate(qlat, shard, 'read');
    const olatPtr = ctx.shards.locate(olat, shard, 'write');
    const scores = ctx.scratch.get(shard, 0, heads * (pos0 + T) * 4);
    ctx.kernels(shard).mla_attend(
      qlatPtr, qv.ptr + nope * 4, qv.stride, qHead, cachePtr, cache.width, kvr, rope,
      heads, T, pos0, shape.softmaxScale, olatPtr, scores,
    );
  }
  // out[t, h] = W_UV[h] · o_lat[t, h]
  {
    const olatPtr = ctx.shards.locate(olat, wvb.shard, 'read');
    const ov = ctx.at(out, wvb.shard, 'readwrite');
    const headBytes = bytesFor(wvb.dtype, [v, kvr]);
    const xq = ctx.dispatch.quantizeHeads(wvb.shard, wvb.dtype, olatPtr, heads * kvr, kvr, heads, kvr, T);
    const rows = xq ? ctx.dispatch.scratchFor(wvb.shard, heads, xq.scratchBytes) : ctx.dispatch.rowScratch(wvb.shard, heads, kvr);
    const kernels = weightType(wvb.dtype).cpu;
    ctx.dispatch.runCalls(wvb.shard, Array.from({ length: heads }, (_, h) => (xq ? {
      kernel: xq.kernel,
      args: [wvb.ptr + h * headBytes, xq.ptr + h * xq.headBytes, ov.ptr + h * v * 4, ov.stride, v, kvr, T, rows + h * xq.scratchBytes],
    } : {
      kernel: kernels.matmul,
      args: [wvb.ptr + h * headBytes, olatPtr + h * kvr * 4, heads * kvr, ov.ptr + h * v * 4, ov.stride, v, kvr, T, rows + h * rowScratchBytes(kvr)],
    })), v * kvr * T * heads);
  }
}
