// Start-up check of the relaxed ops the kernels use (see simd.ts): each op on
// lanes that differ (so swapped operands or lanes show), the extremes of its
// portable range included, against the same sums in scalar code. The inputs
// come from `seed` at run time, so no compiler folds the ops away. Returns a
// bit per op that gives the portable result; 0 in the plain build.
export const SELF_TEST_MADD = 1;
export const SELF_TEST_DOT_I16 = 2;
export const SELF_TEST_DOT_ADD = 4;

/** scratch: 64 bytes the caller owns; seed: any value (the JS side passes a fixed one). */
export function simd_self_test(scratch: usize, seed: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  // a: signed bytes over -128..127; b: the 7-bit operand over 0..127; c: i32 addends.
  for (let i = 0; i < 16; i++) {
    store<i8>(scratch + i, <i8>(((i * 77 + seed) & 255) - 128));
    store<u8>(scratch + 16 + i, <u8>((i * 53 + seed * 3) & 127));
  }
  store<i8>(scratch, -128);
  store<i8>(scratch + 1, 127);
  store<u8>(scratch + 16, 127);
  store<u8>(scratch + 17, 127);
  for (let i = 0; i < 4; i++) store<i32>(scratch + 32 + (<usize>i << 2), (i - 2) * (seed + 1000));
  const a = v128.load(scratch);
  const b = v128.load(scratch, 16);
  const c = v128.load(scratch, 32);
  let passed = 0;

  const d16 = i16x8.relaxed_dot_i8x16_i7x16_s(a, b);
  for (let j = 0; j < 8; j++) {
    const want = <i32>load<i8>(scratch + 2 * j) * <i32>load<u8>(scratch + 16 + 2 * j)
      + <i32>load<i8>(scratch + 2 * j + 1) * <i32>load<u8>(scratch + 17 + 2 * j);
    store<i16>(scratch + 48 + (<usize>j << 1), <i16>want);
  }
  if (v128.all_true<i16>(i16x8.eq(d16, v128.load(scratch, 48)))) passed |= SELF_TEST_DOT_I16;

  const d32 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c);
  for (let j = 0; j < 4; j++) {
    let want = load<i32>(scratch + 32 + (<usize>j << 2));
    for (let k = 0; k < 4; k++) want += <i32>load<i8>(scratch + 4 * j + k) * <i32>load<u8>(scratch + 16 + 4 * j + k);
    store<i32>(scratch + 48 + (<usize>j << 2), want);
  }
  if (v128.all_true<i32>(i32x4.eq(d32, v128.load(scratch, 48)))) passed |= SELF_TEST_DOT_ADD;

  // a·b + c with a = b = 1 + 2^-12, c = -1, where fused (2^-11 + 2^-24) and unfused (2^-11) differ: either is right.
  store<f32>(scratch, <f32>1 + <f32>2.44140625e-4 * <f32>((seed & 1) | 1));
  store<f32>(scratch, <f32>3, 4);
  const x = load<f32>(scratch);
  const m = f32x4.relaxed_madd(v128.load32_splat(scratch), v128.load64_splat(scratch), f32x4.splat(-1));
  const fused = <f32>(<f64>x * <f64>x - 1);
  const unfused = x * x - <f32>1;
  const lane0 = f32x4.extract_lane(m, 0);
  if ((lane0 == fused || lane0 == unfused) && f32x4.extract_lane(m, 1) == x * 3 - 1) passed |= SELF_TEST_MADD;
  return passed;
}
