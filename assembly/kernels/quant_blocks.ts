// ggml's Q8_0 / Q4_0 blocks as the exact quantized matmuls read them
// (matmul_quant.ts; the int16 kernels widen them in matmul_int16*.ts).
// Q selects the format at compile time: i8 = Q8_0, u8 = Q4_0.

// Q8_0 = 34-byte blocks (i8 quants); Q4_0 = 18-byte blocks (nibbles − 8).
@inline export function blockBytes<Q>(): usize { return isSigned<Q>() ? 34 : 18; }

/**
 * Quants 8j..8j+7 of the block at p as i16x8, for j = 0..3 (a compile-time
 * constant after inlining). Q8_0 loads them straight into i16 lanes
 * (v128.load8x8_s: one instruction with its load on x64, where widening the
 * upper half of a 16-byte load costs two); Q4_0 bytes 0..7 hold quants 0..7 in
 * their low nibbles and 16..23 in their high ones, bytes 8..15 quants 8..15
 * and 24..31. The decode kernels' inner step, where every weight is used once.
 */
@inline export function quantsI16x8<Q>(p: usize, j: i32): v128 {
  if (isSigned<Q>()) return quantBytesI16<i8>(p, j);
  return nibblesI16x8(quantBytesI16<u8>(p, j & 1), j >= 2);
}

/**
 * Bytes 8j..8j+7 of the block's quants widened to i16 (sign-extended for i8,
 * zero-extended for u8). The offset is an immediate of the load (j is a
 * constant after inlining), so x64 folds it into the addressing mode instead of
 * computing each address.
 */
@inline export function quantBytesI16<Q>(p: usize, j: i32): v128 {
  if (isSigned<Q>()) {
    if (j == 0) return v128.load8x8_s(p, 2);
    if (j == 1) return v128.load8x8_s(p, 10);
    if (j == 2) return v128.load8x8_s(p, 18);
    return v128.load8x8_s(p, 26);
  }
  if (j == 0) return v128.load8x8_u(p, 2);
  if (j == 1) return v128.load8x8_u(p, 10);
  if (j == 2) return v128.load8x8_u(p, 18);
  return v128.load8x8_u(p, 26);
}

/** Q4_0 bytes zero-extended to i16 lanes → their low (or high) nibbles − 8. */
@inline function nibblesI16x8(bytes: v128, high: bool): v128 {
  return i16x8.sub(high ? i16x8.shr_u(bytes, 4) : v128.and(bytes, i16x8.splat(0x0f)), i16x8.splat(8));
}
