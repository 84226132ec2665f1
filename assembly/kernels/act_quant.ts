// Activations quantized once per matmul call for the integer kernels
// (CpuBackendOptions.activations = 'int16'): per token and 32-element block b,
// s_b = amax / 16383 and q = round(x / s_b) in [-16383, 16383], so that
// x ≈ q·s_b with |x − q·s_b| ≤ amax / 32766 (15 bits, the measured precision
// the default model needs, see README "Integer activations").
//
// Layout of T tokens (B = K/32 blocks), block-major: entry (b, t) is the
// (b·T + t)-th of each array, so a prefill pass over one weight block reads its
// T activation blocks one after another (for T = 1, simply one token):
//   C  [B·T × 16 B]  i32x4 (−8·Σq, 0, 0, 0): the Q4_0 offset (nibble − 8) folded
//                    into the accumulator's start, so nibbles are multiplied as is
//   s  [B·T × 4 B]   f32 scales, then padding to 16 bytes
//   q  [B·T × 32 × i16]  the quantized values (kernels that widen the weights to i16)
//   h, l [B·T × 32 × i8] q = 128·h + l with h in [-128, 127], l in [0, 127]: the
//                    two byte planes the relaxed-SIMD Q4_0 kernel dots with nibbles
// Every block sum Σ w·q is exact in i32 (|Σ| ≤ 32 · 128 · 16384 < 2^31), and
// both builds of the module compute the same integers.

export const ACT_LEVELS: f32 = 16383;
const TINY: f32 = 7.888609052210118e-31; // 2^-100
const UP: f32 = 1.2676506002282294e30; // 2^100

/** Bytes of the C and s arrays of n = B·T blocks, padded to 16. */
@inline export function actHeaderBytes(n: usize): usize {
  return (n * 20 + 15) & ~15;
}

/** Bytes of T tokens' quantized activations (see the layout above). */
export function act_int16_bytes(K: i32, T: i32): i32 {
  const n = <usize>(K >> 5) * <usize>T;
  return <i32>(actHeaderBytes(n) + (n << 7));
}

/** dst: T tokens as laid out above; x row t at x + t·xStride·4; K a multiple of 32. */
export function quantize_act_int16(x: usize, xStride: i32, T: i32, K: i32, dst: usize): void {
  const blocks = K >> 5;
  const n = <usize>blocks * <usize>T;
  const xs = <usize>xStride << 2;
  const sBase = dst + (n << 4);
  const qBase = dst + actHeaderBytes(n);
  const hBase = qBase + (n << 6);
  const lBase = hBase + (n << 5);
  for (let t = 0; t < T; t++) {
    const p0 = x + <usize>t * xs;
    for (let b = 0; b < blocks; b++) {
      const p = p0 + (<usize>b << 7);
      const e = <usize>b * <usize>T + <usize>t; // entry (b, t)
      let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      let v4 = v128.load(p, 64), v5 = v128.load(p, 80), v6 = v128.load(p, 96), v7 = v128.load(p, 112);
      const m = f32x4.max(
        f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3))),
        f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))),
      );
      let amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      // Below 2^-100, 16383 / amax would overflow f32: the block is scaled up by 2^100 first (exactly) and s down.
      let unscale: f32 = 1;
      if (amax > 0 && amax < TINY) {
        const up = f32x4.splat(UP);
        v0 = f32x4.mul(v0, up); v1 = f32x4.mul(v1, up); v2 = f32x4.mul(v2, up); v3 = f32x4.mul(v3, up);
        v4 = f32x4.mul(v4, up); v5 = f32x4.mul(v5, up); v6 = f32x4.mul(v6, up); v7 = f32x4.mul(v7, up);
        amax *= UP;
        unscale = TINY;
      }
      const inv = f32x4.splat(amax > 0 ? ACT_LEVELS / amax : 0);
      store<f32>(sBase + (e << 2), (amax / ACT_LEVELS) * unscale);
      const q0 = pack(v0, v1, inv), q1 = pack(v2, v3, inv), q2 = pack(v4, v5, inv), q3 = pack(v6, v7, inv);
      const qp = qBase + (e << 6);
      v128.store(qp, q0);
      v128.store(qp, q1, 16);
      v128.store(qp, q2, 32);
      v128.store(qp, q3, 48);
      // Σq over the block, then the planes: h = q >> 7 (arithmetic), l = q & 127.
      const ones = i16x8.splat(1);
      const sum4 = i32x4.add(
        i32x4.add(i32x4.dot_i16x8_s(q0, ones), i32x4.dot_i16x8_s(q1, ones)),
        i32x4.add(i32x4.dot_i16x8_s(q2, ones), i32x4.dot_i16x8_s(q3, ones)),
      );
      const sum = i32x4.extract_lane(sum4, 0) + i32x4.extract_lane(sum4, 1) + i32x4.extract_lane(sum4, 2) + i32x4.extract_lane(sum4, 3);
      v128.store(dst + (e << 4), i32x4.replace_lane(i32x4.splat(0), 0, -8 * sum));
      const low = i16x8.splat(127);
      const hp = hBase + (e << 5);
      const lp = lBase + (e << 5);
      v128.store(hp, i8x16.narrow_i16x8_s(i16x8.shr_s(q0, 7), i16x8.shr_s(q1, 7)));
      v128.store(hp, i8x16.narrow_i16x8_s(i16x8.shr_s(q2, 7), i16x8.shr_s(q3, 7)), 16);
      v128.store(lp, i8x16.narrow_i16x8_s(v128.and(q0, low), v128.and(q1, low)));
      v128.store(lp, i8x16.narrow_i16x8_s(v128.and(q2, low), v128.and(q3, low)), 16);
    }
  }
}

/** Eight f32 → eight i16, round(v · inv) with ties to even; |v · inv| ≤ 16383 by construction. */
@inline function pack(a: v128, b: v128, inv: v128): v128 {
  return i16x8.narrow_i32x4_s(
    i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(a, inv))),
    i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(b, inv))),
  );
}
