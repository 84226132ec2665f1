// The Q8_0 / Q4_0 matmul exports with exact f32 activations. Decode (T = 1)
// streams each row once through a one-token loop; prefill and batched decode
// convert each row's quants to f32 once and run the same per-token arithmetic
// (matmul_quant.ts: a token's bits do not depend on T). The int16-activation
// exports are matmul_int16_tiles.ts.
import { blockBytes } from './quant_blocks';
import { f32RowsTimesT, f32RowTimes1 } from './matmul_quant';

/** One token: every row once, the loop kept at depth 1 — V8 unrolls small inner
 *  loops more the deeper they nest, and an unrolled block loop spills (measured 20 % slower). */
@inline function decodeMatmul<Q>(w: usize, x: usize, out: usize, N: i32, K: i32): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * blockBytes<Q>();
  for (let n = 0; n < N; n++) store<f32>(out + (<usize>n << 2), f32RowTimes1<Q>(w + <usize>n * rowBytes, blocks, x));
}

@inline function quantMatmul<Q>(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  if (T == 1) decodeMatmul<Q>(w, x, out, N, K);
  else f32RowsTimesT<Q>(w, x, xStride, out, outStride, N, K, T, scratch);
}

/** scratch: K f32 for a row's quants as f32 (T > 1); unused by decode. */
export function matmul_q8_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  quantMatmul<i8>(w, x, xStride, out, outStride, N, K, T, scratch);
}

export function matmul_q4_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  quantMatmul<u8>(w, x, xStride, out, outStride, N, K, T, scratch);
}
