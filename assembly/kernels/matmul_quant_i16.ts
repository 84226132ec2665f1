// The opt-in fast path for Q8_0/Q4_0 weights (CpuBackendOptions.activations =
// 'int16'): activations are first quantized to int16 per 32-element block, so
// each weight block meets its activation block in integer i32x4.dot_i16x8_s
// (weights i8 → i16 by extend; Q4_0 nibbles → i8 → i16) and only the block's
// i32 partial sums are converted to f32, scaled once by d·s.
//
// Quantized activations, per token t and block b (K / 32 blocks per token,
// tokens contiguous, 68 bytes a block):
//   xq + (t·blocks + b)·68:  f32 s = amax / 32767, then 32 × i16 q = round(x / s)
// so x ≈ q·s with |x − q·s| ≤ amax / 65534. Sums stay exact in i32: a block's
// dot is at most 32 · 128 · 32767 < 2^31.
import { halfToF32, hsum, loadHalf } from './half';
import { blockBytes, blockDotI16, quantsHigh, quantsLow } from './quant_blocks';

export const ACT_BLOCK_BYTES: usize = 68;

/** dst[t, b] = [s, q0..q31] for t < T, b < K/32 (K a multiple of 32); x row t at x + t·xStride·4. */
export function quantize_act_i16(x: usize, xStride: i32, T: i32, K: i32, dst: usize): void {
  const blocks = K >> 5;
  const xs = <usize>xStride << 2;
  let o = dst;
  for (let t = 0; t < T; t++) {
    let p = x + <usize>t * xs;
    for (let b = 0; b < blocks; b++) {
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      const v4 = v128.load(p, 64), v5 = v128.load(p, 80), v6 = v128.load(p, 96), v7 = v128.load(p, 112);
      const m = f32x4.max(
        f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3))),
        f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))),
      );
      const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
      const s: f32 = amax / 32767;
      const inv = f32x4.splat(amax > 0 ? <f32>32767 / amax : 0);
      store<f32>(o, s);
      v128.store(o, pack(v0, v1, inv), 4);
      v128.store(o, pack(v2, v3, inv), 20);
      v128.store(o, pack(v4, v5, inv), 36);
      v128.store(o, pack(v6, v7, inv), 52);
      p += 128;
      o += ACT_BLOCK_BYTES;
    }
  }
}

/** Eight f32 → eight i16, round(v · inv) with ties to even; |v · inv| ≤ 32767 by construction. */
@inline function pack(a: v128, b: v128, inv: v128): v128 {
  return i16x8.narrow_i32x4_s(
    i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(a, inv))),
    i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(b, inv))),
  );
}

/** Σ w·q over one block as i32x4 partial sums; w0..w3 are the weight quants as i16x8, a the activation block. */
@inline function blockDot(w0: v128, w1: v128, w2: v128, w3: v128, a: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(a, 4)), i32x4.dot_i16x8_s(w1, v128.load(a, 20))),
    i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(a, 36)), i32x4.dot_i16x8_s(w3, v128.load(a, 52))),
  );
}

/** acc + f32(dot) · (d · s of the activation block at a); d splatted. */
@inline function accumulate(acc: v128, dot: v128, d: v128, a: usize): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(dot), f32x4.mul(d, v128.load32_splat(a))));
}

/** 8 tokens, xs bytes apart: each block's widened weights are used 8 times (prefill). */
@inline export function i16RowTimes8<Q>(wr: usize, blocks: i32, x0: usize, xs: usize, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  let p = wr;
  let a = x0;
  for (let b = 0; b < blocks; b++) {
    const d = f32x4.splat(halfToF32(load<u16>(p)));
    const lo = quantsLow<Q>(p), hi = quantsHigh<Q>(p);
    const w0 = i16x8.extend_low_i8x16_s(lo), w1 = i16x8.extend_high_i8x16_s(lo);
    const w2 = i16x8.extend_low_i8x16_s(hi), w3 = i16x8.extend_high_i8x16_s(hi);
    a0 = accumulate(a0, blockDot(w0, w1, w2, w3, a), d, a);
    a1 = accumulate(a1, blockDot(w0, w1, w2, w3, a + xs), d, a + xs);
    a2 = accumulate(a2, blockDot(w0, w1, w2, w3, a + 2 * xs), d, a + 2 * xs);
    a3 = accumulate(a3, blockDot(w0, w1, w2, w3, a + 3 * xs), d, a + 3 * xs);
    a4 = accumulate(a4, blockDot(w0, w1, w2, w3, a + 4 * xs), d, a + 4 * xs);
    a5 = accumulate(a5, blockDot(w0, w1, w2, w3, a + 5 * xs), d, a + 5 * xs);
    a6 = accumulate(a6, blockDot(w0, w1, w2, w3, a + 6 * xs), d, a + 6 * xs);
    a7 = accumulate(a7, blockDot(w0, w1, w2, w3, a + 7 * xs), d, a + 7 * xs);
    p += bb;
    a += ACT_BLOCK_BYTES;
  }
  store<f32>(o0, hsum(a0));
  store<f32>(o0 + os, hsum(a1));
  store<f32>(o0 + 2 * os, hsum(a2));
  store<f32>(o0 + 3 * os, hsum(a3));
  store<f32>(o0 + 4 * os, hsum(a4));
  store<f32>(o0 + 5 * os, hsum(a5));
  store<f32>(o0 + 6 * os, hsum(a6));
  store<f32>(o0 + 7 * os, hsum(a7));
}

/** 4 tokens, xs bytes apart. */
@inline export function i16RowTimes4<Q>(wr: usize, blocks: i32, x0: usize, xs: usize, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let p = wr;
  let a = x0;
  for (let b = 0; b < blocks; b++) {
    const d = f32x4.splat(halfToF32(load<u16>(p)));
    const lo = quantsLow<Q>(p), hi = quantsHigh<Q>(p);
    const w0 = i16x8.extend_low_i8x16_s(lo), w1 = i16x8.extend_high_i8x16_s(lo);
    const w2 = i16x8.extend_low_i8x16_s(hi), w3 = i16x8.extend_high_i8x16_s(hi);
    a0 = accumulate(a0, blockDot(w0, w1, w2, w3, a), d, a);
    a1 = accumulate(a1, blockDot(w0, w1, w2, w3, a + xs), d, a + xs);
    a2 = accumulate(a2, blockDot(w0, w1, w2, w3, a + 2 * xs), d, a + 2 * xs);
    a3 = accumulate(a3, blockDot(w0, w1, w2, w3, a + 3 * xs), d, a + 3 * xs);
    p += bb;
    a += ACT_BLOCK_BYTES;
  }
  store<f32>(o0, hsum(a0));
  store<f32>(o0 + os, hsum(a1));
  store<f32>(o0 + 2 * os, hsum(a2));
  store<f32>(o0 + 3 * os, hsum(a3));
}

/** acc + f32(Σ of the block at p, a) · d · s: d from the weight block's half, s the activation block's f32. */
@inline function decodeBlock<Q>(acc: v128, p: usize, a: usize): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(blockDotI16<Q>(p, a)), f32x4.splat(loadHalf(p) * load<f32>(a))));
}

/**
 * One token (decode): every weight is read once, so the instruction count per
 * block is the budget (≈ 24 on x64: 4 widening loads, 4 activation loads,
 * 4 i32x4.dot, 3 adds, the scale d·s in scalar, convert, multiply, add). Two
 * blocks a step on two accumulators; written as one expression chain per block
 * so V8 schedules each block's loads next to their uses instead of hoisting a
 * wider unroll's loads into spills (4 blocks a step measured slower).
 */
@inline export function i16RowTimes1<Q>(wr: usize, blocks: i32, x0: usize): f32 {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let p = wr;
  let a = x0;
  let b = 0;
  for (; b + 2 <= blocks; b += 2) {
    a0 = decodeBlock<Q>(a0, p, a);
    a1 = decodeBlock<Q>(a1, p + bb, a + ACT_BLOCK_BYTES);
    p += 2 * bb;
    a += 2 * ACT_BLOCK_BYTES;
  }
  if (b < blocks) a0 = decodeBlock<Q>(a0, p, a);
  return hsum(f32x4.add(a0, a1));
}
