// Prefill (T > 1, f32 activations) for weights whose decode costs more than
// their multiply-adds: f16, Q8_0, Q4_0, and every block type of block_types.ts. Each weight row is decoded once into
// f32 scratch (K values, L1-resident) and the f32 kernel's 4-token passes
// reuse it for every token, so the decode is paid once per row instead of once
// per 4 or 8 tokens, and the inner loop is the f32 one (2 loads, 2 mul, 2 add
// per 8 multiply-adds and token, no spills). Measured against the 8-token
// passes that decoded every block in the loop, which this replaced: Q8_0 1.5x
// at 16-64 tokens, equal at T = 2 (`npx tsx bench/kernels.ts`, BENCHMARKS.md).
// The result is bit-identical to decoding each block in the loop: the decoded
// value is the same f32 either way.
import { dequantize_f16, dequantize_q4_0, dequantize_q8_0 } from './dequantize';
import { matmul_f32 } from './matmul_float';
import { blockBytes } from './quant_blocks';

/** W selects the format: u16 = f16, i8 = Q8_0, u8 = Q4_0 (quant_blocks.ts). */
@inline function rowBytes<W>(K: i32): usize {
  if (sizeof<W>() == 2) return <usize>K << 1;
  return <usize>(K >> 5) * blockBytes<W>();
}

@inline function decodeRow<W>(src: usize, dst: usize, K: i32): void {
  if (sizeof<W>() == 2) dequantize_f16(src, dst, K);
  else if (isSigned<W>()) dequantize_q8_0(src, dst, K);
  else dequantize_q4_0(src, dst, K);
}

/** out[t, n] for t < T, n < N; scratch holds K f32 (the caller's, one per concurrent call). */
@inline export function matmulDecodedRows<W>(
  w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize,
): void {
  const rb = rowBytes<W>(K);
  for (let n = 0; n < N; n++) {
    decodeRow<W>(w + <usize>n * rb, scratch, K);
    matmul_f32(scratch, x, xStride, out + (<usize>n << 2), outStride, 1, K, T);
  }
}

/** Decodes `count` weights at src into f32 at dst (a dequantize_* kernel). */
export type RowDecoder = (src: usize, dst: usize, count: i32) => void;

/** As matmulDecodedRows, for a format named by its row decoder and row bytes (block_types.ts). */
@inline export function matmulDecodedRowsWith(
  decode: RowDecoder, rowBytes: usize, w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize,
): void {
  for (let n = 0; n < N; n++) {
    decode(w + <usize>n * rowBytes, scratch, K);
    matmul_f32(scratch, x, xStride, out + (<usize>n << 2), outStride, 1, K, T);
  }
}
