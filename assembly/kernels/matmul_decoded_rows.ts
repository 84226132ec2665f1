// Prefill (T ≥ 8, f32 activations) for f16 weights, whose decode costs more
// than their multiply-adds. Each weight row is decoded once into
// f32 scratch (K values, L1-resident) and the f32 kernel's token passes
// reuse it for every token, so the decode is paid once per row instead of once
// per 4 or 8 tokens, and the inner loop is the f32 one (2 loads, 2 mul, 2 add
// per 8 multiply-adds and token, no spills).
// The result is bit-identical to decoding each block in the loop: the decoded
// value is the same f32 either way, and matmul_f32 does the same per-token
// arithmetic in every pass. (Q8_0/Q4_0 and the block types cannot take this
// path: their decode kernels scale each block's sum by d, where a decoded row
// holds q·d, so the sums would round differently from decode's.)
import { dequantize_f16 } from './dequantize';
import { matmul_f32 } from './matmul_float';

/** out[t, n] for t < T, n < N of f16 W [N, K]; scratch holds K f32 (the caller's, one per concurrent call). */
@inline export function matmulDecodedRowsF16(
  w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize,
): void {
  const rowBytes = <usize>K << 1;
  for (let n = 0; n < N; n++) {
    dequantize_f16(w + <usize>n * rowBytes, scratch, K);
    matmul_f32(scratch, x, xStride, out + (<usize>n << 2), outStride, 1, K, T);
  }
}
