// The block-format weight types of the Wasm module, one row each (the
// AssemblyScript side of src/model/weight-types.ts): elements and bytes per
// block, the one-token dot (dot_*), the row decoder (dequantize_*) and the
// group size of the activation sums its dot reads (0: none). matmul_<type>
// has the MatmulKernel contract of src/backend/cpu/kernel-exports.ts: the
// fused dot over each row for every token, no decoded copy (blockMatmul);
// dequantize_* decode rows for the other backends' uploads. Q8_0/Q4_0, which
// also have integer-activation kernels, are in matmul_quant_tiles.ts.
import { groupSums } from './block_dot';
import { dequantize_iq4_nl, dequantize_iq4_xs, dot_iq4_nl, dot_iq4_xs } from './blocks_iq4';
import { dequantize_q4_1, dequantize_q5_0, dequantize_q5_1, dot_q4_1, dot_q5_0, dot_q5_1 } from './blocks_legacy';
import { dequantize_q2_k, dequantize_q3_k, dot_q2_k, dot_q3_k } from './blocks_q2_k_q3_k';
import { dequantize_q4_k, dequantize_q5_k, dot_q4_k, dot_q5_k } from './blocks_q4_k_q5_k';
import { dequantize_q6_k, dot_q6_k } from './blocks_q6_k';

export {
  dequantize_iq4_nl, dequantize_iq4_xs, dequantize_q2_k, dequantize_q3_k, dequantize_q4_1, dequantize_q4_k,
  dequantize_q5_0, dequantize_q5_1, dequantize_q5_k, dequantize_q6_k,
};

/** One weight row (`blocks` blocks at w) times f32 x; sums: Σx per group (see SUM_GROUP) when the type has offsets. */
type RowDot = (w: usize, blocks: i32, x: usize, sums: usize) => f32;

/**
 * Every token runs the one-token dot over every row, so its outputs are the
 * same bits whatever T is (batch invariance, matmul_int16_tiles.ts). Tokens go
 * in chunks whose activation sums fill the scratch (K f32: `sumGroup` tokens
 * of K / sumGroup sums; all T without sums), and each row is dotted with every
 * token of a chunk while it is in L1, so the weights leave memory once per
 * chunk. Sharing a decoded row between tokens (the f32 prefill kernel on
 * dequantize_* rows) is faster from a few tokens up, but rounds differently
 * from the dot: it would make a request's logits depend on its batch.
 */
@inline function blockMatmul(
  dot: RowDot, block: i32, blockBytes: i32, sumGroup: i32,
  w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize,
): void {
  const blocks = K / block;
  const rowBytes = <usize>blocks * <usize>blockBytes;
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  const sumBytes = sumGroup > 0 ? <usize>(K / sumGroup) << 2 : 0;
  const chunk = sumGroup > 0 ? sumGroup : T;
  for (let t0 = 0; t0 < T; t0 += chunk) {
    const t1 = min(T, t0 + chunk);
    if (sumGroup > 0) for (let t = t0; t < t1; t++) groupSums(x + <usize>t * xs, K, sumGroup, scratch + <usize>(t - t0) * sumBytes);
    for (let n = 0; n < N; n++) {
      const wr = w + <usize>n * rowBytes;
      for (let t = t0; t < t1; t++) {
        store<f32>(out + <usize>t * os + (<usize>n << 2), dot(wr, blocks, x + <usize>t * xs, scratch + <usize>(t - t0) * sumBytes));
      }
    }
  }
}

//                                                                    block  bytes  sums
export function matmul_q4_1(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q4_1, 32, 20, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q5_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q5_0, 32, 22, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q5_1(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q5_1, 32, 24, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_iq4_nl(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_iq4_nl, 32, 18, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q2_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q2_k, 256, 84, 16, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q3_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q3_k, 256, 110, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q4_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q4_k, 256, 144, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q5_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q5_k, 256, 176, 32, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_q6_k(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_q6_k, 256, 210, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
export function matmul_iq4_xs(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  blockMatmul(dot_iq4_xs, 256, 136, 0, w, x, xStride, out, outStride, N, K, T, scratch);
}
