// IEEE half and bfloat16 → f32.
// Subnormal f32 operands send x86 through a slow microcode assist, so no
// conversion here multiplies a subnormal: normal halves are rebased in the
// integer domain (exponent + 112), subnormal halves computed as m · 2^-24.
// Weight rows take a cheaper integer-only path for 8 halves at a time when
// none of them has a zero exponent (zero or subnormal). Weights are finite,
// so Inf/NaN need no lane handling.

const HALF_REBASE: f32 = 5.192296858534828e33; // 2^112

@inline
export function halfToF32(h: u32): f32 {
  const magnitude = reinterpret<f32>((h & 0x7fff) << 13) * HALF_REBASE;
  return reinterpret<f32>(reinterpret<u32>(magnitude) | ((h & 0x8000) << 16));
}

/**
 * The half at p → f32, as halfToF32 but in four scalar instructions: the
 * sign-extended load puts the sign in bit 31 already, the mask keeps it and
 * the 15 magnitude bits (now exponent − 112 and mantissa of an f32), and one
 * multiply rebases — the per-block scale of the quantized decode kernels.
 */
@inline
export function loadHalf(p: usize): f32 {
  return reinterpret<f32>((<i32>load<i16>(p) << 13) & 0x8fffe000) * HALF_REBASE;
}

/**
 * The half at p → f32 with no subnormal operand anywhere, for block scales
 * that are often subnormal halves (K-quant super-scales of weights with a
 * std of 0.02 sit near 4e-5 < 2^-14): loadHalf multiplies a subnormal f32
 * for them, a microcode assist on x86 that cost 15× in decode. Normal halves
 * are rebased in the integer domain, subnormal ones computed as m · 2^-24.
 */
@inline
export function loadScale(p: usize): f32 {
  const h = <u32>load<u16>(p);
  const a = h & 0x7fff;
  const normal = reinterpret<f32>((a << 13) + (112 << 23));
  const subnormal = <f32>a * 5.960464477539063e-8; // m · 2^-24, exact and normal for m ≥ 1
  return reinterpret<f32>(reinterpret<u32>(select<f32>(normal, subnormal, a >= 0x400)) | ((h & 0x8000) << 16));
}

/** Four halves (u16 in the low halves of each i32 lane, zero-extended) → f32x4;
 *  exact for every finite half, and no subnormal ever reaches the FPU. */
@inline
export function halvesToF32x4(h: v128): v128 {
  const a = v128.and(h, i32x4.splat(0x7fff));
  const normal = i32x4.add(i32x4.shl(a, 13), i32x4.splat(112 << 23));
  const subnormal = f32x4.mul(f32x4.convert_i32x4_s(a), f32x4.splat(5.960464477539063e-8)); // m · 2^-24
  const magnitude = v128.bitselect(subnormal, normal, i32x4.lt_s(a, i32x4.splat(0x400)));
  return v128.or(magnitude, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** Eight halves at p → two f32x4 (elements 0..3, 4..7); exact for every finite half. */
@inline
export function loadHalf8Low(p: usize): v128 {
  return halvesToF32x4(i32x4.extend_low_i16x8_u(v128.load(p)));
}

@inline
export function loadHalf8High(p: usize): v128 {
  return halvesToF32x4(i32x4.extend_high_i16x8_u(v128.load(p)));
}

/** True when none of the 8 halves has a zero exponent, so the integer path below is exact. */
@inline
export function halvesNormal(raw: v128): bool {
  return !v128.any_true(i16x8.eq(v128.and(raw, i16x8.splat(0x7c00)), i16x8.splat(0)));
}

/** Upper 16 bits of the f32s of 8 normal halves: sign | (exponent + 112) | top 7 mantissa bits. */
@inline
export function normalHalvesUpper(raw: v128): v128 {
  // The arithmetic shift leaves copies of the sign in bits 12..14; the mask clears them.
  return i16x8.add(v128.and(i16x8.shr_s(raw, 3), i16x8.splat(<i16>0x8fff)), i16x8.splat(112 << 7));
}

/** f32x4 of normal halves 0..3 given lower = raw << 13 (16-bit lanes) and upper = normalHalvesUpper(raw). */
@inline
export function interleaveLow(lower: v128, upper: v128): v128 {
  return i8x16.shuffle(lower, upper, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
}

@inline
export function interleaveHigh(lower: v128, upper: v128): v128 {
  return i8x16.shuffle(lower, upper, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
}

/** Eight bf16 at p → f32x4 of elements 0..3 (each the upper half of an f32). */
@inline
export function loadBf16x8Low(p: usize): v128 {
  return interleaveLow(i32x4.splat(0), v128.load(p));
}

@inline
export function loadBf16x8High(p: usize): v128 {
  return interleaveHigh(i32x4.splat(0), v128.load(p));
}

@inline
export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
