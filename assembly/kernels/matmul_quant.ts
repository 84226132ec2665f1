// out[t, n] = Σ_k x[t, k] · W[n, k] for Q8_0 and Q4_0 weights in ggml's block
// layout (f16 d, then 32 quants; see src/backend/cpu/kernel-exports.ts).
// Exact mode: activations stay f32; each block's quants are widened
// i8 → i16 → i32 → f32 in registers, dotted with x, and the block sum is
// scaled by d once. Rows outer, tokens inner (4 per pass) so a weight block is
// decoded once per 4 tokens and each row is read from memory once per batch.
import { halfToF32, hsum } from './half';

// Q8_0 = 34-byte blocks (i8 quants); Q4_0 = 18-byte blocks (nibbles − 8).
@inline function blockBytes<Q>(): usize { return isSigned<Q>() ? 34 : 18; }

/** Quants 0..15 and 16..31 of a block as signed bytes. */
@inline function quantsLow<Q>(p: usize): v128 {
  if (isSigned<Q>()) return v128.load(p, 2);
  return i8x16.sub(v128.and(v128.load(p, 2), i8x16.splat(0x0f)), i8x16.splat(8));
}

@inline function quantsHigh<Q>(p: usize): v128 {
  if (isSigned<Q>()) return v128.load(p, 18);
  return i8x16.sub(i8x16.shr_u(v128.load(p, 2), 4), i8x16.splat(8));
}

@inline function f0(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(q))); }
@inline function f1(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_low_i8x16_s(q))); }
@inline function f2(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_high_i8x16_s(q))); }
@inline function f3(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_high_i8x16_s(q))); }

/** Σ over 16 values of w · x[o .. o+16). */
@inline function dot16(w0: v128, w1: v128, w2: v128, w3: v128, x: usize): v128 {
  return f32x4.add(
    f32x4.add(f32x4.mul(w0, v128.load(x)), f32x4.mul(w1, v128.load(x, 16))),
    f32x4.add(f32x4.mul(w2, v128.load(x, 32)), f32x4.mul(w3, v128.load(x, 48))),
  );
}

@inline function matmulQuant<Q>(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  const blocks = K >> 5;
  const bb = blockBytes<Q>();
  const rowBytes = <usize>blocks * bb;
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  for (let n = 0; n < N; n++) {
    const wr = w + <usize>n * rowBytes;
    let t = 0;
    for (; t + 4 <= T; t += 4) {
      const x0 = x + <usize>t * xs;
      const x1 = x0 + xs;
      const x2 = x1 + xs;
      const x3 = x2 + xs;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let b = 0; b < blocks; b++) {
        const p = wr + <usize>b * bb;
        const d = f32x4.splat(halfToF32(load<u16>(p)));
        const lo = quantsLow<Q>(p);
        const hi = quantsHigh<Q>(p);
        const w0 = f0(lo), w1 = f1(lo), w2 = f2(lo), w3 = f3(lo);
        const w4 = f0(hi), w5 = f1(hi), w6 = f2(hi), w7 = f3(hi);
        const o = <usize>b << 7;
        a0 = f32x4.add(a0, f32x4.mul(d, f32x4.add(dot16(w0, w1, w2, w3, x0 + o), dot16(w4, w5, w6, w7, x0 + o + 64))));
        a1 = f32x4.add(a1, f32x4.mul(d, f32x4.add(dot16(w0, w1, w2, w3, x1 + o), dot16(w4, w5, w6, w7, x1 + o + 64))));
        a2 = f32x4.add(a2, f32x4.mul(d, f32x4.add(dot16(w0, w1, w2, w3, x2 + o), dot16(w4, w5, w6, w7, x2 + o + 64))));
        a3 = f32x4.add(a3, f32x4.mul(d, f32x4.add(dot16(w0, w1, w2, w3, x3 + o), dot16(w4, w5, w6, w7, x3 + o + 64))));
      }
      const o0 = out + <usize>t * os + (<usize>n << 2);
      store<f32>(o0, hsum(a0));
      store<f32>(o0 + os, hsum(a1));
      store<f32>(o0 + 2 * os, hsum(a2));
      store<f32>(o0 + 3 * os, hsum(a3));
    }
    for (; t < T; t++) {
      const x0 = x + <usize>t * xs;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      for (let b = 0; b < blocks; b++) {
        const p = wr + <usize>b * bb;
        const d = f32x4.splat(halfToF32(load<u16>(p)));
        const lo = quantsLow<Q>(p);
        const hi = quantsHigh<Q>(p);
        const o = <usize>b << 7;
        a0 = f32x4.add(a0, f32x4.mul(d, dot16(f0(lo), f1(lo), f2(lo), f3(lo), x0 + o)));
        a1 = f32x4.add(a1, f32x4.mul(d, dot16(f0(hi), f1(hi), f2(hi), f3(hi), x0 + o + 64)));
      }
      store<f32>(out + <usize>t * os + (<usize>n << 2), hsum(f32x4.add(a0, a1)));
    }
  }
}

export function matmul_q8_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  matmulQuant<i8>(w, x, xStride, out, outStride, N, K, T);
}

export function matmul_q4_0(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  matmulQuant<u8>(w, x, xStride, out, outStride, N, K, T);
}
