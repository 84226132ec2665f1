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

/**
 * Quants 8j..8j+7 of the block at p as i16x8, for j = 0..3 (a compile-time
 * constant after inlining). Q8_0 loads them straight into i16 lanes
 * (v128.load8x8_s: one instruction with its load on x64, where widening the
 * upper half of a 16-byte load costs two); Q4_0 bytes 0..7 hold quants 0..7 in
 * their low nibbles and 16..23 in their high ones, bytes 8..15 quants 8..15
 * and 24..31. The decode kernels' inner step, where every weight is used once.
 */
@inline export function quantsI16x8<Q>(p: usize, j: i32): v128 {
  if (isSigned<Q>()) return v128.load8x8_s(p + 2 + (<usize>j << 3));
  return nibblesI16x8(v128.load8x8_u(p + 2 + (<usize>(j & 1) << 3)), j >= 2);
}

/** Q4_0 bytes zero-extended to i16 lanes → their low (or high) nibbles − 8. */
@inline function nibblesI16x8(bytes: v128, high: bool): v128 {
  return i16x8.sub(high ? i16x8.shr_u(bytes, 4) : v128.and(bytes, i16x8.splat(0x0f)), i16x8.splat(8));
}

/** Σ q·xq over one block as i32x4 partial sums, for int16 activations (the 68-byte block at a: f32 scale, then 32 × i16). */
@inline export function blockDotI16<Q>(p: usize, a: usize): v128 {
  let q0: v128, q1: v128, q2: v128, q3: v128;
  if (isSigned<Q>()) {
    q0 = quantsI16x8<Q>(p, 0); q1 = quantsI16x8<Q>(p, 1); q2 = quantsI16x8<Q>(p, 2); q3 = quantsI16x8<Q>(p, 3);
  } else {
    // Each 8 bytes once, for both of their nibbles.
    const b0 = v128.load8x8_u(p, 2), b1 = v128.load8x8_u(p, 10);
    q0 = nibblesI16x8(b0, false); q1 = nibblesI16x8(b1, false); q2 = nibblesI16x8(b0, true); q3 = nibblesI16x8(b1, true);
  }
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(q0, v128.load(a, 4)), i32x4.dot_i16x8_s(q1, v128.load(a, 20))),
    i32x4.add(i32x4.dot_i16x8_s(q2, v128.load(a, 36)), i32x4.dot_i16x8_s(q3, v128.load(a, 52))),
  );
}
