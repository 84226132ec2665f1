// Absorbed MLA attention on the GPU (design.md "Absorbed decode"):
//   q_lat[t, h] = W_UKᵀ[h] · q_nope[t, h]        matmul.wgsl, batched over heads
//   partial softmax over context splits          mla_attention.wgsl partial_main (block tables)
//   o_lat[t, h] = merged Σ_j p_j c_j             mla_attention.wgsl merge_main
//   out[t, h]   = W_UV[h] · o_lat[t, h]          matmul.wgsl, batched over heads
// The cache is read in its latent form only, each row through its sequence's block table.
import type { CacheRows, MlaShape } from '../backend.ts';
import { splitGroups } from './recorder.ts';
import type { GpuWeight } from './resources.ts';
import type { Strided, WebGpuBackend } from './webgpu-backend.ts';

/** Positions per workgroup chunk in mla_attention.wgsl, and heads per workgroup. */
const CHUNK = 64;
const HEAD_GROUP = 4;
/** Workgroups to aim for: enough to fill a large GPU during decode. */
const TARGET_WORKGROUPS = 512;
/** o_lat columns held per invocation (MAXQ = 8) × 64 invocations; DeepSeek-V2/V3 use 512. */
const MAX_KV_LORA = 512;

/** Context split for T query rows whose longest context is `context` positions. */
export function contextSplits(T: number, context: number, heads: number): { splits: number; splitLen: number } {
  const perSplit = T * Math.ceil(heads / HEAD_GROUP);
  const wanted = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / perSplit), Math.ceil(context / CHUNK)));
  const splitLen = Math.ceil(context / wanted / CHUNK) * CHUNK;
  return { splits: Math.ceil(context / splitLen), splitLen };
}

export function recordMlaAttention(
  b: WebGpuBackend, q: Strided, cache: GPUBuffer, blockSize: number, cacheRows: CacheRows,
  wkb: GpuWeight, wvb: GpuWeight, shape: MlaShape, out: Strided,
): void {
  const { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale } = shape;
  const T = q.rows;
  const qHead = nope + rope;
  if (kvr > MAX_KV_LORA) throw new Error(`mlaAttention: kv_lora_rank ${kvr} > ${MAX_KV_LORA}, the register tile of mla_attention.wgsl`);
  const { rec, resources } = b;
  const qlat: Strided = { buffer: resources.scratchBuffer('mla.qlat', T * heads * kvr * 4), offset: 0, stride: heads * kvr, rows: T, cols: heads * kvr };
  const olat: Strided = { buffer: resources.scratchBuffer('mla.olat', T * heads * kvr * 4), offset: 0, stride: heads * kvr, rows: T, cols: heads * kvr };

  b.matmulRecord(wkb, { ...q, cols: nope }, qlat, T, { xBatch: qHead, oBatch: kvr });

  const rowInfo = new Uint32Array(2 * T);
  let context = 0;
  for (let t = 0; t < T; t++) {
    rowInfo[2 * t] = cacheRows.positions[t];
    rowInfo[2 * t + 1] = cacheRows.tableStart[t];
    context = Math.max(context, cacheRows.positions[t] + 1);
  }
  const { splits, splitLen } = contextSplits(T, context, heads);
  const partial = resources.scratchBuffer('mla.partial', T * heads * splits * (kvr + 2) * 4);
  const constants = { KVR: kvr, ROPE: rope };
  const groups = T * Math.ceil(heads / HEAD_GROUP) * splits;
  const [gx] = splitGroups(groups);
  const params = rec.params([T, heads, blockSize, splits, splitLen, q.offset + nope, q.stride, qHead, softmaxScale, gx], new Set([8]));
  rec.dispatch('mla partial', rec.pipeline('mla_attention', 'partial_main', constants), {
    0: params, 1: qlat.buffer, 2: q.buffer, 3: cache, 4: partial,
    6: rec.input(rowInfo), 7: rec.input(Uint32Array.from(cacheRows.blocks)),
  }, groups);

  const mergeGroups = Math.ceil((T * heads * kvr) / 64);
  const [mx] = splitGroups(mergeGroups);
  const mergeParams = rec.params([T, heads, blockSize, splits, splitLen, 0, 0, 0, 0, mx], new Set([8]));
  rec.dispatch('mla merge', rec.pipeline('mla_attention', 'merge_main', constants),
    { 0: mergeParams, 4: partial, 5: olat.buffer }, mergeGroups);

  b.matmulRecord(wvb, olat, out, T, { xBatch: kvr, oBatch: v });
}
