// out[t, n] = Σ_k x[t, k] · W[n, k] for IEEE half weights W [N, K].
// Below 8 tokens: the shape of matmul_float.ts (rows outer, 2 tokens per
// pass, eight columns per step, scalar tail for K % 8); eight halves decode on
// the integer path unless one of them is zero or subnormal (see half.ts), and
// the decode is shared by the pass's tokens. From 8 tokens each row is decoded
// once to f32 instead (matmul_decoded_rows.ts): measured with 4-token passes,
// 1.0x at 8 tokens, 1.15x at 16, 1.4x at 64; 0.8x at 2-4, where the row decode
// is shared by too few tokens (`npx tsx bench/kernels.ts --dtypes f16`). Every path gives
// a token the same bits (batch invariance): each does matmul_float.ts's
// per-token arithmetic on the same decoded f32 weights.
import {
  halfToF32, halvesNormal, halvesToF32x4, hsum, interleaveHigh, interleaveLow, normalHalvesUpper,
} from './half';
import { matmulDecodedRowsF16 } from './matmul_decoded_rows';
import { madd } from './simd';

/** Each 8-half group decoded in the loop and shared by a pass's 2 tokens; the decode path (T = 1) and small batches. */
@inline function decodeInLoop(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  const K8 = K & ~7;
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  for (let n = 0; n < N; n++) {
    const wr = w + ((<usize>n * <usize>K) << 1);
    let t = 0;
    for (; t + 2 <= T; t += 2) {
      const x0 = x + <usize>t * xs;
      const x1 = x0 + xs;
      // Per token the one-token pass's arithmetic (lo and hi accumulators, as matmul_float.ts).
      let l0 = f32x4.splat(0), l1 = f32x4.splat(0), h0 = f32x4.splat(0), h1 = f32x4.splat(0);
      for (let k = 0; k < K8; k += 8) {
        const raw = v128.load(wr + (<usize>k << 1));
        let lo: v128, hi: v128;
        if (halvesNormal(raw)) {
          const lower = i16x8.shl(raw, 13);
          const upper = normalHalvesUpper(raw);
          lo = interleaveLow(lower, upper);
          hi = interleaveHigh(lower, upper);
        } else {
          lo = halvesToF32x4(i32x4.extend_low_i16x8_u(raw));
          hi = halvesToF32x4(i32x4.extend_high_i16x8_u(raw));
        }
        const o = <usize>k << 2;
        l0 = madd(lo, v128.load(x0 + o), l0);
        h0 = madd(hi, v128.load(x0 + o, 16), h0);
        l1 = madd(lo, v128.load(x1 + o), l1);
        h1 = madd(hi, v128.load(x1 + o, 16), h1);
      }
      let s0 = hsum(f32x4.add(l0, h0)), s1 = hsum(f32x4.add(l1, h1));
      for (let k = K8; k < K; k++) {
        const wv = halfToF32(load<u16>(wr + (<usize>k << 1)));
        const o = <usize>k << 2;
        s0 += wv * load<f32>(x0 + o);
        s1 += wv * load<f32>(x1 + o);
      }
      const o0 = out + <usize>t * os + (<usize>n << 2);
      store<f32>(o0, s0);
      store<f32>(o0 + os, s1);
    }
    for (; t < T; t++) {
      const x0 = x + <usize>t * xs;
      // Two accumulators keep the FP adds independent.
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      for (let k = 0; k < K8; k += 8) {
        const raw = v128.load(wr + (<usize>k << 1));
        let lo: v128, hi: v128;
        if (halvesNormal(raw)) {
          const lower = i16x8.shl(raw, 13);
          const upper = normalHalvesUpper(raw);
          lo = interleaveLow(lower, upper);
          hi = interleaveHigh(lower, upper);
        } else {
          lo = halvesToF32x4(i32x4.extend_low_i16x8_u(raw));
          hi = halvesToF32x4(i32x4.extend_high_i16x8_u(raw));
        }
        const o = <usize>k << 2;
        a0 = madd(lo, v128.load(x0 + o), a0);
        a1 = madd(hi, v128.load(x0 + o, 16), a1);
      }
      let s = hsum(f32x4.add(a0, a1));
      for (let k = K8; k < K; k++) s += halfToF32(load<u16>(wr + (<usize>k << 1))) * load<f32>(x0 + (<usize>k << 2));
      store<f32>(out + <usize>t * os + (<usize>n << 2), s);
    }
  }
}

/** scratch: K f32 for the decoded row when T ≥ 8. */
export function matmul_f16(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  if (T < 8) decodeInLoop(w, x, xStride, out, outStride, N, K, T);
  else matmulDecodedRowsF16(w, x, xStride, out, outStride, N, K, T, scratch);
}
