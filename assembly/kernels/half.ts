// IEEE half and bfloat16 → f32. Half: the exponent is rebased by multiplying
// the shifted bits by 2^112, exact for normal and subnormal halves (weights
// are finite, so Inf/NaN need no special lane handling in the vector form).

const HALF_REBASE: f32 = 5.192296858534828e33; // 2^112

@inline
export function halfToF32(h: u32): f32 {
  const magnitude = reinterpret<f32>((h & 0x7fff) << 13) * HALF_REBASE;
  return reinterpret<f32>(reinterpret<u32>(magnitude) | ((h & 0x8000) << 16));
}

/** Four halves (u16 in the low halves of each i32 lane, zero-extended) → f32x4. */
@inline
export function halvesToF32x4(h: v128): v128 {
  const magnitude = f32x4.mul(i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13), f32x4.splat(HALF_REBASE));
  return v128.or(magnitude, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** Eight halves at p → two f32x4 (elements 0..3, 4..7). */
@inline
export function loadHalf8Low(p: usize): v128 {
  return halvesToF32x4(i32x4.extend_low_i16x8_u(v128.load(p)));
}

@inline
export function loadHalf8High(p: usize): v128 {
  return halvesToF32x4(i32x4.extend_high_i16x8_u(v128.load(p)));
}

@inline
export function loadBf16x8Low(p: usize): v128 {
  return i32x4.shl(i32x4.extend_low_i16x8_u(v128.load(p)), 16);
}

@inline
export function loadBf16x8High(p: usize): v128 {
  return i32x4.shl(i32x4.extend_high_i16x8_u(v128.load(p)), 16);
}

@inline
export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
