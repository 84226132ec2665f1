// The quantized matmuls' exports. Decode (T = 1) streams each row once
// through a one-token loop, in both activation modes. Prefill with exact f32
// activations decodes each row once to f32 (matmul_decoded_rows.ts); with
// int16 activations the weight rows are tiled (~128 KiB) so a tile stays in
// L2 while every token group passes over it and the weights leave memory once
// per call; within a tile, 8-token, then 4-token, then single-token passes
// reuse each widened block.
import { blockBytes } from './quant_blocks';
import { f32RowTimes1 } from './matmul_quant';
import { matmulDecodedRows } from './matmul_decoded_rows';
import { ACT_BLOCK_BYTES, i16RowTimes1, i16RowTimes4, i16RowTimes8 } from './matmul_quant_i16';

const TILE_BYTES: usize = 128 << 10;

/** One token: every row once, the loop kept at depth 1 — V8 unrolls small inner
 *  loops more the deeper they nest, and an unrolled block loop spills (measured 20 % slower). */
@inline function decodeMatmul<Q, A>(w: usize, x: usize, out: usize, N: i32, K: i32): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * blockBytes<Q>();
  for (let n = 0; n < N; n++) {
    const wr = w + <usize>n * rowBytes;
    store<f32>(out + (<usize>n << 2), isFloat<A>() ? f32RowTimes1<Q>(wr, blocks, x) : i16RowTimes1<Q>(wr, blocks, x));
  }
}

/** Int16 activations, T > 1: row tiles, token groups of 8, 4, 1 over each tile. */
@inline function tiledMatmulI16<Q>(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * blockBytes<Q>();
  const xs = <usize>blocks * ACT_BLOCK_BYTES;
  const os = <usize>outStride << 2;
  const tileRows = max<i32>(1, <i32>(TILE_BYTES / max<usize>(rowBytes, 1)));
  for (let n0 = 0; n0 < N; n0 += tileRows) {
    const n1 = min(N, n0 + tileRows);
    let t = 0;
    for (; t + 8 <= T; t += 8) {
      for (let n = n0; n < n1; n++) i16RowTimes8<Q>(w + <usize>n * rowBytes, blocks, xq + <usize>t * xs, xs, out + <usize>t * os + (<usize>n << 2), os);
    }
    for (; t + 4 <= T; t += 4) {
      for (let n = n0; n < n1; n++) i16RowTimes4<Q>(w + <usize>n * rowBytes, blocks, xq + <usize>t * xs, xs, out + <usize>t * os + (<usize>n << 2), os);
    }
    for (; t < T; t++) {
      for (let n = n0; n < n1; n++) store<f32>(out + <usize>t * os + (<usize>n << 2), i16RowTimes1<Q>(w + <usize>n * rowBytes, blocks, xq + <usize>t * xs));
    }
  }
}

@inline function quantMatmul<Q>(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  if (T == 1) decodeMatmul<Q, f32>(w, x, out, N, K);
  else matmulDecodedRows<Q>(w, x, xStride, out, outStride, N, K, T, scratch);
}

@inline function quantMatmulI16<Q>(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  if (T == 1) decodeMatmul<Q, i16>(w, xq, out, N, K);
  else tiledMatmulI16<Q>(w, xq, out, outStride, N, K, T);
}

/** scratch: K f32 for the decoded row of a prefill (T > 1); unused by decode. */
export function matmul_q8_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  quantMatmul<i8>(w, x, xStride, out, outStride, N, K, T, scratch);
}

export function matmul_q4_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  quantMatmul<u8>(w, x, xStride, out, outStride, N, K, T, scratch);
}

/** out[t·outStride + n] = Σ_b d_nb · s_tb · Σ_i q_nbi · xq_tbi for Q8_0 weights and xq from quantize_act_i16. */
export function matmul_q8_0_i16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  quantMatmulI16<i8>(w, xq, out, outStride, N, K, T);
}

/** As matmul_q8_0_i16, for Q4_0 weights. */
export function matmul_q4_0_i16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  quantMatmulI16<u8>(w, xq, out, outStride, N, K, T);
}
