// out[t, n] = Σ_k x[t, k] · W[n, k] for f32 and bf16 weights W [N, K]
// (f16: matmul_f16.ts, whose decode needs a branch).
// Rows outer, tokens inner: each weight row is read from memory once per
// batch and reused from L1 for every token (2 tokens per pass share each
// converted weight vector). Eight columns per step, scalar tail for K % 8.
//
// Batch invariance: a token's outputs are the same bits whatever T is and
// whichever pass it falls in (a request's logits do not depend on what else
// shares its forward step; matmul_int16_tiles.ts). Every pass does the
// one-token pass's arithmetic per token: columns 0..3 of each 8 into one
// accumulator, 4..7 into another, hsum(lo + hi), then the scalar tail. (Two
// accumulators per token in 4-token passes spilled in V8: 0.6-0.8x at 4-16
// tokens; 2-token passes keep the 4-token passes' speed for f32, 0.85x bf16.)
import { hsum, loadBf16x8High, loadBf16x8Low } from './half';
import { madd } from './simd';

// Marker types select the weight format at compile time: f32, or u16 = bf16.
@inline function weightBytes<W>(): usize { return sizeof<W>(); }

@inline function wLow<W>(p: usize): v128 {
  if (isFloat<W>()) return v128.load(p);
  return loadBf16x8Low(p);
}

@inline function wHigh<W>(p: usize): v128 {
  if (isFloat<W>()) return v128.load(p, 16);
  return loadBf16x8High(p);
}

@inline function wScalar<W>(p: usize): f32 {
  if (isFloat<W>()) return load<f32>(p);
  return reinterpret<f32>(<u32>load<u16>(p) << 16);
}

@inline function matmulFloat<W>(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  const K8 = K & ~7;
  const wb = weightBytes<W>();
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  for (let n = 0; n < N; n++) {
    const wr = w + <usize>n * <usize>K * wb;
    let t = 0;
    for (; t + 2 <= T; t += 2) {
      const x0 = x + <usize>t * xs;
      const x1 = x0 + xs;
      // Per token the one-token pass's arithmetic (batch invariance, above):
      // low halves into one accumulator, high halves into another.
      let l0 = f32x4.splat(0), l1 = f32x4.splat(0), h0 = f32x4.splat(0), h1 = f32x4.splat(0);
      for (let k = 0; k < K8; k += 8) {
        const p = wr + <usize>k * wb;
        const lo = wLow<W>(p);
        const hi = wHigh<W>(p);
        const o = <usize>k << 2;
        l0 = madd(lo, v128.load(x0 + o), l0);
        h0 = madd(hi, v128.load(x0 + o, 16), h0);
        l1 = madd(lo, v128.load(x1 + o), l1);
        h1 = madd(hi, v128.load(x1 + o, 16), h1);
      }
      let s0 = hsum(f32x4.add(l0, h0)), s1 = hsum(f32x4.add(l1, h1));
      for (let k = K8; k < K; k++) {
        const wv = wScalar<W>(wr + <usize>k * wb);
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
      // Two accumulators per half keep the FP adds independent.
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      for (let k = 0; k < K8; k += 8) {
        const p = wr + <usize>k * wb;
        const o = <usize>k << 2;
        a0 = madd(wLow<W>(p), v128.load(x0 + o), a0);
        a1 = madd(wHigh<W>(p), v128.load(x0 + o, 16), a1);
      }
      let s = hsum(f32x4.add(a0, a1));
      for (let k = K8; k < K; k++) s += wScalar<W>(wr + <usize>k * wb) * load<f32>(x0 + (<usize>k << 2));
      store<f32>(out + <usize>t * os + (<usize>n << 2), s);
    }
  }
}

export function matmul_f32(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  matmulFloat<f32>(w, x, xStride, out, outStride, N, K, T);
}

export function matmul_bf16(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  matmulFloat<u16>(w, x, xStride, out, outStride, N, K, T);
}
