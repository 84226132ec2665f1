// The block-format weight types of the Wasm module, one row each (the
// AssemblyScript side of src/model/weight-types.ts): elements and bytes per
// block, the one-token dot (dot_*), the row decoder (dequantize_*) and the
// group size of the activation sums its dot reads (0: none). matmul_<type>
// has the MatmulKernel contract of src/backend/cpu/kernel-exports.ts:
// decode (T = 1) runs the fused dot over each row, no decoded copy; prefill
// decodes each row once to f32 (matmul_decoded_rows.ts). Q8_0/Q4_0, which
// also have integer-activation kernels, are in matmul_quant_tiles.ts.
import { groupSums } from './block_dot';
import { dequantize_iq4_nl, dequantize_iq4_xs, dot_iq4_nl, dot_iq4_xs } from './blocks_iq4';
import { dequantize_q4_1, dequantize_q5_0, dequantize_q5_1, dot_q4_1, dot_q5_0, dot_q5_1 } from './blocks_legacy';
import { dequantize_q2_k, dequantize_q3_k, dot_q2_k, dot_q3_k } from './blocks_q2_k_q3_k';
import { dequantize_q4_k, dequantize_q5_k, dot_q4_k, dot_q5_k } from './blocks_q4_k_q5_k';
import { dequantize_q6_k, dot_q6_k } from './blocks_q6_k';
import { matmulDecodedRowsWith, RowDecoder } from './matmul_decoded_rows';

export {
  dequantize_iq4_nl, dequantize_iq4_xs, dequantize_q2_k, dequantize_q3_k, dequantize_q4_1, dequantize_q4_k,
  dequantize_q5_0, dequantize_q5_1, dequantize_q5_k, dequantize_q6_k,
};

/** One weight row (`blocks` blocks at w) times f32 x; sums: Σx per group (see SUM_GROUP) when the type has offsets. */
type RowDot = (w: usize, blocks: i32, x: usize, sums: usize) => f32;

/** T = 1: the dot over every row (activation sums first, into scratch); T > 1: decoded rows. */
@inline function blockMatmul(
  dot: RowDot, decode: RowDecoder, block: i32, blockBytes: i32, sumGroup: i32,
  w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize,
): void {
  const blocks = K / block;
  const rowBytes = <usize>blocks * <usize>blockBytes;
  if (T > 1) {
    matmulDecodedRowsWith(decode, rowBytes, w, x, xStride, out, outStride, N, K, T, scratch);
    return;
  }
  if (sumGroup > 0) groupSums(x, K, sumGroup, scratch);
  for (let n = 0; n < N; n++) store<f32>(out + (<usize>n << 2), dot(w + <usize>n * rowBytes, blocks, x, scratch));
}

//                                                                    block  bytes  sums
export function matmul_q4_1(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q4_1, dequantize_q4_1, 32, 20, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q5_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q5_0, dequantize_q5_0, 32, 22, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q5_1(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q5_1, dequantize_q5_1, 32, 24, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_iq4_nl(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_iq4_nl, dequantize_iq4_nl, 32, 18, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q2_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q2_k, dequantize_q2_k, 256, 84, 16, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q3_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q3_k, dequantize_q3_k, 256, 110, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q4_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q4_k, dequantize_q4_k, 256, 144, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q5_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q5_k, dequantize_q5_k, 256, 176, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q6_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q6_k, dequantize_q6_k, 256, 210, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_iq4_xs(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_iq4_xs, dequantize_iq4_xs, 256, 136, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
