// The two builds of the module (asconfig.json): plain Wasm SIMD, and relaxed
// SIMD (targets relaxed, relaxed-threads). Kernels call these helpers; each
// build compiles only its own branch (ASC_FEATURE_RELAXED_SIMD is a
// compile-time constant), so the plain build holds no relaxed instruction and
// validates on every runtime with SIMD (Safari, older engines).
//
// Relaxed ops the kernels use, each checked at start-up by simd_self_test
// (src/backend/cpu/kernel-build.ts) before the relaxed build is chosen:
//   f32x4.relaxed_madd                    a·b + c, fused or not
//   i16x8.relaxed_dot_i8x16_i7x16_s       Σ of byte pairs a·b into i16, b in 0..127
//   i32x4.relaxed_dot_i8x16_i7x16_add_s   Σ of byte quads a·b + c into i32, b in 0..127
//     (vpdpbusd where the CPU has AVX-VNNI; wrong on Node 20's V8, so the
//     kernels that use it have a twin built on the i16x8 form)

/** 1 in the relaxed build. */
export function simd_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** a·b + c per f32 lane: one FMA where relaxed SIMD has it. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
