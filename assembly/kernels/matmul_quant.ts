// out[t, n] = Σ_k x[t, k] · W[n, k] for Q8_0 and Q4_0 weights in ggml's block
// layout (f16 d, then 32 quants; see src/backend/cpu/kernel-exports.ts).
// Activations stay f32. Each block's f16 scale is converted once; quants are
// widened i8 → i16 → i32 → f32 in registers. q·d is exact in f32 (8 × 11
// significant bits), so scaling the decoded weights first costs no accuracy.
// Rows are tiled so a tile of weights is streamed from memory once per batch;
// within a tile, each decoded half-block (16 weights, 4 registers) is reused
// for 8 or 4 tokens.
import { halfToF32, hsum, loadHalf } from './half';
import { blockBytes, quantsHigh, quantsI16x8, quantsLow } from './quant_blocks';

// Lanes 0..3, 4..7, 8..11, 12..15 of 16 signed bytes as f32x4.
@inline function f0(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(q))); }
@inline function f1(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_low_i8x16_s(q))); }
@inline function f2(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_high_i8x16_s(q))); }
@inline function f3(q: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_high_i8x16_s(q))); }

/** (w0·x[0:4] + w1·x[4:8]) + (w2·x[8:12] + w3·x[12:16]) */
@inline function dot16(w0: v128, w1: v128, w2: v128, w3: v128, x: usize): v128 {
  return f32x4.add(
    f32x4.add(f32x4.mul(w0, v128.load(x)), f32x4.mul(w1, v128.load(x, 16))),
    f32x4.add(f32x4.mul(w2, v128.load(x, 32)), f32x4.mul(w3, v128.load(x, 48))),
  );
}

/** 4 tokens at x0, x0 + xs, ...: each decoded half-block is used 4 times. */
@inline export function f32RowTimes4<Q>(wr: usize, blocks: i32, x0: usize, xs: usize, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  const x1 = x0 + xs;
  const x2 = x1 + xs;
  const x3 = x2 + xs;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let p = wr;
  let o: usize = 0;
  for (let b = 0; b < blocks; b++) {
    const d = f32x4.splat(halfToF32(load<u16>(p)));
    const lo = quantsLow<Q>(p);
    let w0 = f32x4.mul(f0(lo), d), w1 = f32x4.mul(f1(lo), d), w2 = f32x4.mul(f2(lo), d), w3 = f32x4.mul(f3(lo), d);
    a0 = f32x4.add(a0, dot16(w0, w1, w2, w3, x0 + o));
    a1 = f32x4.add(a1, dot16(w0, w1, w2, w3, x1 + o));
    a2 = f32x4.add(a2, dot16(w0, w1, w2, w3, x2 + o));
    a3 = f32x4.add(a3, dot16(w0, w1, w2, w3, x3 + o));
    const hi = quantsHigh<Q>(p);
    w0 = f32x4.mul(f0(hi), d); w1 = f32x4.mul(f1(hi), d); w2 = f32x4.mul(f2(hi), d); w3 = f32x4.mul(f3(hi), d);
    a0 = f32x4.add(a0, dot16(w0, w1, w2, w3, x0 + o + 64));
    a1 = f32x4.add(a1, dot16(w0, w1, w2, w3, x1 + o + 64));
    a2 = f32x4.add(a2, dot16(w0, w1, w2, w3, x2 + o + 64));
    a3 = f32x4.add(a3, dot16(w0, w1, w2, w3, x3 + o + 64));
    p += bb;
    o += 128;
  }
  store<f32>(o0, hsum(a0));
  store<f32>(o0 + os, hsum(a1));
  store<f32>(o0 + 2 * os, hsum(a2));
  store<f32>(o0 + 3 * os, hsum(a3));
}

/** 8 tokens: each decoded half-block is used 8 times (prefill). */
@inline export function f32RowTimes8<Q>(wr: usize, blocks: i32, x0: usize, xs: usize, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  let p = wr;
  let o = x0;
  for (let b = 0; b < blocks; b++) {
    const d = f32x4.splat(halfToF32(load<u16>(p)));
    const lo = quantsLow<Q>(p);
    let w0 = f32x4.mul(f0(lo), d), w1 = f32x4.mul(f1(lo), d), w2 = f32x4.mul(f2(lo), d), w3 = f32x4.mul(f3(lo), d);
    a0 = f32x4.add(a0, dot16(w0, w1, w2, w3, o));
    a1 = f32x4.add(a1, dot16(w0, w1, w2, w3, o + xs));
    a2 = f32x4.add(a2, dot16(w0, w1, w2, w3, o + 2 * xs));
    a3 = f32x4.add(a3, dot16(w0, w1, w2, w3, o + 3 * xs));
    a4 = f32x4.add(a4, dot16(w0, w1, w2, w3, o + 4 * xs));
    a5 = f32x4.add(a5, dot16(w0, w1, w2, w3, o + 5 * xs));
    a6 = f32x4.add(a6, dot16(w0, w1, w2, w3, o + 6 * xs));
    a7 = f32x4.add(a7, dot16(w0, w1, w2, w3, o + 7 * xs));
    const hi = quantsHigh<Q>(p);
    w0 = f32x4.mul(f0(hi), d); w1 = f32x4.mul(f1(hi), d); w2 = f32x4.mul(f2(hi), d); w3 = f32x4.mul(f3(hi), d);
    const oh = o + 64;
    a0 = f32x4.add(a0, dot16(w0, w1, w2, w3, oh));
    a1 = f32x4.add(a1, dot16(w0, w1, w2, w3, oh + xs));
    a2 = f32x4.add(a2, dot16(w0, w1, w2, w3, oh + 2 * xs));
    a3 = f32x4.add(a3, dot16(w0, w1, w2, w3, oh + 3 * xs));
    a4 = f32x4.add(a4, dot16(w0, w1, w2, w3, oh + 4 * xs));
    a5 = f32x4.add(a5, dot16(w0, w1, w2, w3, oh + 5 * xs));
    a6 = f32x4.add(a6, dot16(w0, w1, w2, w3, oh + 6 * xs));
    a7 = f32x4.add(a7, dot16(w0, w1, w2, w3, oh + 7 * xs));
    p += bb;
    o += 128;
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

/** Σ of 8 quants at q (as i16 lanes, see quantsI16x8) times the f32 activations at x as f32x4. */
@inline function dot8(q: v128, x: usize): v128 {
  return f32x4.add(
    f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q)), v128.load(x)),
    f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q)), v128.load(x, 16)),
  );
}

/** acc + d · Σ over the block at p of q·x (x at o): quants widened straight from their loads. */
@inline function decodeBlock<Q>(acc: v128, p: usize, o: usize): v128 {
  const s = f32x4.add(
    f32x4.add(dot8(quantsI16x8<Q>(p, 0), o), dot8(quantsI16x8<Q>(p, 1), o + 32)),
    f32x4.add(dot8(quantsI16x8<Q>(p, 2), o + 64), dot8(quantsI16x8<Q>(p, 3), o + 96)),
  );
  return f32x4.add(acc, f32x4.mul(s, f32x4.splat(loadHalf(p))));
}

/** One token: two blocks a step on independent accumulators (see i16RowTimes1 on the shape). */
@inline export function f32RowTimes1<Q>(wr: usize, blocks: i32, x0: usize): f32 {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let p = wr;
  let o = x0;
  let b = 0;
  for (; b + 2 <= blocks; b += 2) {
    a0 = decodeBlock<Q>(a0, p, o);
    a1 = decodeBlock<Q>(a1, p + bb, o + 128);
    p += 2 * bb;
    o += 256;
  }
  if (b < blocks) a0 = decodeBlock<Q>(a0, p, o);
  return hsum(f32x4.add(a0, a1));
}
