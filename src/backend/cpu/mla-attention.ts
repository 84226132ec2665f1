// The absorbed MLA op on the CPU backend (design.md "Absorbed decode"): per
// head q_lat = W_UKᵀ·q_nope, then mla_attend over each row's sequence in the
// paged latent cache (scores against c and k_pe, softmax, Σ p·c), then
// W_UV·o_lat. Each step runs in the Wasm memory of its weight or of the cache.
import {
  bytesFor, viewOf, type AbsorbedAttentionWeights, type CacheRows, type LatentCache, type MlaShape, type Operand,
} from '../backend.ts';
import type { CpuContext } from './cpu-context.ts';
import type { CpuWeight } from './cpu-types.ts';
import type { KernelCall } from './threads/pool.ts';
import { rowScratchBytes } from './kernel-exports.ts';
import { weightType } from '../../model/weight-types.ts';

/** Scratch slots (see Scratch.get) of the step's block addresses and row descriptors. */
const BLOCK_ROWS_SLOT = 10;
const ROWS_SLOT = 11;

export function absorbedAttention(
  ctx: CpuContext, q: Operand, cache: LatentCache, layer: number, rows: CacheRows,
  weights: AbsorbedAttentionWeights, shape: MlaShape, out: Operand,
): void {
  const { shard } = ctx.cacheLayer(cache, layer);
  const { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr } = shape;
  const T = viewOf(q).act.rows;
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
    const { blockRows, rowsPtr } = writeTables(ctx, cache, layer, rows, T);
    const calls = attendCalls(ctx.dispatch.threads, T, heads, rows);
    const scoreBytes = calls.reduce((a, c) => Math.max(a, c.heads * c.context * 4), 0);
    const scores = ctx.scratch.get(shard, 0, scoreBytes * calls.length);
    const macs = calls.reduce((a, c) => a + c.macs * (2 * kvr + rope), 0);
    ctx.dispatch.runCalls(shard, calls.map((c, i): KernelCall => {
      const lat = (c.t0 * heads + c.h0) * kvr * 4;
      return {
        kernel: 'mla_attend',
        args: [
          qlatPtr + lat, qv.ptr + (c.t0 * qv.stride + nope + c.h0 * qHead) * 4, qv.stride, qHead, heads * kvr,
          blockRows, rowsPtr + c.t0 * 8, cache.blockSize, cache.width, kvr, rope,
          c.heads, c.t1 - c.t0, shape.softmaxScale, olatPtr + lat, scores + i * scoreBytes,
        ],
      };
    }), macs);
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

/** The step's block tables as this layer's block addresses, and the rows as (position, table start) pairs. */
function writeTables(ctx: CpuContext, cache: LatentCache, layer: number, rows: CacheRows, T: number): { blockRows: number; rowsPtr: number } {
  const { shard, blockPtrs } = ctx.cacheLayer(cache, layer);
  const blockRows = ctx.scratch.get(shard, BLOCK_ROWS_SLOT, rows.blocks.length * 4);
  const rowsPtr = ctx.scratch.get(shard, ROWS_SLOT, T * 8);
  const inst = ctx.instances[shard];
  const u32 = new Uint32Array(inst.memory.buffer, blockRows, rows.blocks.length);
  rows.blocks.forEach((id, i) => { u32[i] = blockPtrs[id]; });
  const i32 = inst.i32();
  for (let t = 0; t < T; t++) {
    i32[rowsPtr / 4 + 2 * t] = rows.positions[t];
    i32[rowsPtr / 4 + 2 * t + 1] = rows.tableStart[t];
  }
  return { blockRows, rowsPtr };
}

/** Rows [t0, t1), heads [h0, h0 + heads); context: the longest row's; macs: Σ heads × context over the rows. */
interface AttendCall { t0: number; t1: number; h0: number; heads: number; context: number; macs: number }

/**
 * How mla_attend is split over threads: rows in ranges when there are at
 * least as many rows as threads (a batch), else each row's heads in groups
 * (one sequence's decode). Each call gets its own score scratch. Either way
 * a row's olat is the same bits (mla_attend scores a head alike in or out of
 * a group of four): the split does not change a row's sums.
 */
function attendCalls(threads: number, T: number, heads: number, rows: CacheRows): AttendCall[] {
  const context = (t0: number, t1: number) => { let n = 0; for (let t = t0; t < t1; t++) n = Math.max(n, rows.positions[t] + 1); return n; };
  const calls: AttendCall[] = [];
  if (threads === 1 || T >= threads) {
    const per = Math.ceil(T / threads);
    for (let t0 = 0; t0 < T; t0 += per) {
      const t1 = Math.min(T, t0 + per);
      let macs = 0;
      for (let t = t0; t < t1; t++) macs += heads * (rows.positions[t] + 1);
      calls.push({ t0, t1, h0: 0, heads, context: context(t0, t1), macs });
    }
    return calls;
  }
  const groups = Math.min(heads, Math.ceil(threads / T));
  const perGroup = Math.ceil(heads / groups);
  for (let t = 0; t < T; t++) {
    for (let h0 = 0; h0 < heads; h0 += perGroup) {
      const n = Math.min(perGroup, heads - h0);
      calls.push({ t0: t, t1: t + 1, h0, heads: n, context: rows.positions[t] + 1, macs: n * (rows.positions[t] + 1) });
    }
  }
  return calls;
}
