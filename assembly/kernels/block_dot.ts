// Shared steps of the block-format kernels (blocks_*.ts): small integer lanes
// times f32 activations as f32x4 partial sums (the decode dots), the same
// lanes scaled into f32 rows (the row decoders), and per-group sums of the
// activations (the min/offset terms of affine formats). No multiply here
// touches a subnormal the inputs did not hold, and every stored value is the
// f32 that ggml's dequantize_row_* computes: q·d [+ m] in that order.

/** Σ over 8 i16 lanes q times the 8 f32 at x, as f32x4 partial sums. */
@inline export function dotI16x8(q: v128, x: usize): v128 {
  return f32x4.add(
    f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q)), v128.load(x)),
    f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q)), v128.load(x, 16)),
  );
}

/** Σ over 16 i8 lanes q times the 16 f32 at x, as f32x4 partial sums. */
@inline export function dotI8x16(q: v128, x: usize): v128 {
  return f32x4.add(dotI16x8(i16x8.extend_low_i8x16_s(q), x), dotI16x8(i16x8.extend_high_i8x16_s(q), x + 32));
}

/** 16 i8 lanes → dst[0..16) = f32(q)·d. */
@inline export function storeScaledI8x16(q: v128, d: v128, dst: usize): void {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), d));
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), d), 16);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), d), 32);
  v128.store(dst, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), d), 48);
}

/** 16 i8 lanes → dst[0..16) = f32(q)·d + m (an offset −m1 stores d·q − m1 exactly: x − y = x + (−y)). */
@inline export function storeAffineI8x16(q: v128, d: v128, m: v128, dst: usize): void {
  const lo = i16x8.extend_low_i8x16_s(q);
  const hi = i16x8.extend_high_i8x16_s(q);
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo)), d), m));
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo)), d), m), 16);
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi)), d), m), 32);
  v128.store(dst, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi)), d), m), 48);
}

/** Low nibbles of 16 bytes (as i8 lanes). */
@inline export function lowNibbles(v: v128): v128 {
  return v128.and(v, i8x16.splat(0x0f));
}

/** High nibbles of 16 bytes: a 16-bit shift then a mask (i8x16.shr_u is emulated on x64). */
@inline export function highNibbles(v: v128): v128 {
  return v128.and(i16x8.shr_u(v, 4), i8x16.splat(0x0f));
}

/**
 * The 5th bits of a Q5 block's 16 elements e0..e0+15 as i8 lanes of 0x10 or
 * 0: bits e0..e0+15 (e0 = 0 or 16) of the u32 qh at qhAt spread one per lane. qh's bytes b0..b3
 * are spread by interleaving shuffles (punpck on x64, no mask constant to
 * rebuild in a loop, unlike a pshufb pattern): [b0×8, b1×8] for elements
 * 0..15, [b2×8, b3×8] for 16..31; then lane j keeps its bit j mod 8. Shared by
 * the exact kernels (blocks_legacy.ts) and the int16 ones (legacy_int16_rows.ts).
 */
@inline export function fifthBits(qhAt: usize, high: bool): v128 {
  const b = v128.load32_zero(qhAt); // one movd (a splat of a scalar qh measured 0.92× in the int16 decode)
  const b2 = i8x16.shuffle(b, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); // b0 b0 b1 b1 b2 b2 b3 b3 …
  const b4 = i8x16.shuffle(b2, b2, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23); // b0×4 b1×4 b2×4 b3×4
  const spread = high
    ? i8x16.shuffle(b4, b4, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31)
    : i8x16.shuffle(b4, b4, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const bit = v128.and(spread, i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128));
  return v128.andnot(i8x16.splat(0x10), i8x16.eq(bit, i8x16.splat(0)));
}

/** sums[g] = Σ x[g·group .. (g + 1)·group) for g < K / group (group 16 or 32; K a multiple of it). */
export function groupSums(x: usize, K: i32, group: i32, sums: usize): void {
  const groups = K / group;
  for (let g = 0; g < groups; g++) {
    const p = x + ((<usize>g * <usize>group) << 2);
    let a = f32x4.add(v128.load(p), v128.load(p, 16));
    a = f32x4.add(a, f32x4.add(v128.load(p, 32), v128.load(p, 48)));
    if (group == 32) {
      a = f32x4.add(a, f32x4.add(v128.load(p, 64), v128.load(p, 80)));
      a = f32x4.add(a, f32x4.add(v128.load(p, 96), v128.load(p, 112)));
    }
    store<f32>(sums + (<usize>g << 2), (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3)));
  }
}
