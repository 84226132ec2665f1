// The quantized matmuls' loop nest, shared by both activation modes: weight
// rows are tiled (~128 KiB) so a tile stays in L2 while every token group
// passes over it and the weights leave memory once per call; within a tile,
// 8-token, then 4-token, then single-token passes reuse each decoded block.
// A selects the activations at compile time: f32 (exact) or i16 (quantized by
// quantize_act_i16, one 68-byte block per 32 values).
import { blockBytes } from './quant_blocks';
import { f32RowTimes1, f32RowTimes4, f32RowTimes8 } from './matmul_quant';
import { ACT_BLOCK_BYTES, i16RowTimes1, i16RowTimes4, i16RowTimes8 } from './matmul_quant_i16';

const TILE_BYTES: usize = 128 << 10;

@inline function tiledMatmul<Q, A>(w: usize, x: usize, xs: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * blockBytes<Q>();
  const os = <usize>outStride << 2;
  if (T == 1) {
    // Decode, kept at loop depth 1: V8 unrolls small inner loops more the deeper
    // they nest, and an unrolled block loop spills (measured 20 % slower).
    for (let n = 0; n < N; n++) {
      const wr = w + <usize>n * rowBytes;
      store<f32>(out + (<usize>n << 2), isFloat<A>() ? f32RowTimes1<Q>(wr, blocks, x) : i16RowTimes1<Q>(wr, blocks, x));
    }
    return;
  }
  const tileRows = max<i32>(1, <i32>(TILE_BYTES / max<usize>(rowBytes, 1)));
  for (let n0 = 0; n0 < N; n0 += tileRows) {
    const n1 = min(N, n0 + tileRows);
    let t = 0;
    for (; t + 8 <= T; t += 8) {
      for (let n = n0; n < n1; n++) {
        const wr = w + <usize>n * rowBytes;
        const o = out + <usize>t * os + (<usize>n << 2);
        if (isFloat<A>()) f32RowTimes8<Q>(wr, blocks, x + <usize>t * xs, xs, o, os);
        else i16RowTimes8<Q>(wr, blocks, x + <usize>t * xs, xs, o, os);
      }
    }
    for (; t + 4 <= T; t += 4) {
      for (let n = n0; n < n1; n++) {
        const wr = w + <usize>n * rowBytes;
        const o = out + <usize>t * os + (<usize>n << 2);
        if (isFloat<A>()) f32RowTimes4<Q>(wr, blocks, x + <usize>t * xs, xs, o, os);
        else i16RowTimes4<Q>(wr, blocks, x + <usize>t * xs, xs, o, os);
      }
    }
    for (; t < T; t++) {
      for (let n = n0; n < n1; n++) {
        const wr = w + <usize>n * rowBytes;
        const value = isFloat<A>() ? f32RowTimes1<Q>(wr, blocks, x + <usize>t * xs) : i16RowTimes1<Q>(wr, blocks, x + <usize>t * xs);
        store<f32>(out + <usize>t * os + (<usize>n << 2), value);
      }
    }
  }
}

export function matmul_q8_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  tiledMatmul<i8, f32>(w, x, <usize>xStride << 2, out, outStride, N, K, T);
}

export function matmul_q4_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  tiledMatmul<u8, f32>(w, x, <usize>xStride << 2, out, outStride, N, K, T);
}

/** out[t·outStride + n] = Σ_b d_nb · s_tb · Σ_i q_nbi · xq_tbi for Q8_0 weights and xq from quantize_act_i16. */
export function matmul_q8_0_i16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  tiledMatmul<i8, i16>(w, xq, <usize>(K >> 5) * ACT_BLOCK_BYTES, out, outStride, N, K, T);
}

/** As matmul_q8_0_i16, for Q4_0 weights. */
export function matmul_q4_0_i16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  tiledMatmul<u8, i16>(w, xq, <usize>(K >> 5) * ACT_BLOCK_BYTES, out, outStride, N, K, T);
}
