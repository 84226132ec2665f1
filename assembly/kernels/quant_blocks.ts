// ggml's Q8_0 / Q4_0 blocks as both quantized matmul paths read them
// (matmul_quant.ts with f32 activations, matmul_quant_i16.ts with int16 ones).
// Q selects the format at compile time: i8 = Q8_0, u8 = Q4_0.

// Q8_0 = 34-byte blocks (i8 quants); Q4_0 = 18-byte blocks (nibbles − 8).
@inline export function blockBytes<Q>(): usize { return isSigned<Q>() ? 34 : 18; }

/** Quants 0..15 of the block at p, as signed bytes. */
@inline export function quantsLow<Q>(p: usize): v128 {
  if (isSigned<Q>()) return v128.load(p, 2);
  return i8x16.sub(v128.and(v128.load(p, 2), i8x16.splat(0x0f)), i8x16.splat(8));
}

/** Quants 16..31 of the block at p, as signed bytes. */
@inline export function quantsHigh<Q>(p: usize): v128 {
  if (isSigned<Q>()) return v128.load(p, 18);
  // A 16-bit shift then a mask: the high nibbles without i8x16.shr_u's emulation on x64.
  return i8x16.sub(v128.and(i16x8.shr_u(v128.load(p, 2), 4), i8x16.splat(0x0f)), i8x16.splat(8));
}
