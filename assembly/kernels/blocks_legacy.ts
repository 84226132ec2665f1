// Q4_1, Q5_0 and Q5_1: ggml's 32-element blocks with an f16 scale d (and an
// f16 offset m), 4-bit quants and, for Q5, a u32 of 5th bits (layouts in
// src/model/quant/legacy-blocks.ts; Q8_0/Q4_0 live in quant_blocks.ts).
//   Q4_1 20 bytes: d, m, 16 nibble bytes          x = q·d + m
//   Q5_0 22 bytes: d, qh, 16 nibble bytes         x = (q − 16)·d
//   Q5_1 24 bytes: d, m, qh, 16 nibble bytes      x = q·d + m
// Element j < 16 is byte j's low nibble, j + 16 its high one (5th bit: qh bit j).
// dot_*: one weight row (`blocks` blocks at w) times f32 x; sums holds Σx per
// 32 values (groupSums) for the offset formats. dequantize_*: rows → f32.
import { dotI8x16, fifthBits, highNibbles, lowNibbles, storeAffineI8x16, storeScaledI8x16 } from './block_dot';
import { hsum, loadScale } from './half';

export function dot_q4_1(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  let offset: f32 = 0;
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 20;
    const xb = x + (<usize>b << 7);
    const v = v128.load(p, 4);
    const s = f32x4.add(dotI8x16(lowNibbles(v), xb), dotI8x16(highNibbles(v), xb + 64));
    acc = f32x4.add(acc, f32x4.mul(s, f32x4.splat(loadScale(p))));
    offset += loadScale(p + 2) * load<f32>(sums + (<usize>b << 2));
  }
  return hsum(acc) + offset;
}

export function dequantize_q4_1(src: usize, dst: usize, count: i32): void {
  for (let b = 0; b < count >> 5; b++) {
    const p = src + <usize>b * 20;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(loadScale(p));
    const m = f32x4.splat(loadScale(p + 2));
    const v = v128.load(p, 4);
    storeAffineI8x16(lowNibbles(v), d, m, o);
    storeAffineI8x16(highNibbles(v), d, m, o + 64);
  }
}

/** Quants of a Q5 block with their 5th bits: elements 0..15 (high = false) or 16..31, nibbles at p. */
@inline function fiveBitQuants(p: usize, qhAt: usize, high: bool): v128 {
  const v = v128.load(p);
  return v128.or(high ? highNibbles(v) : lowNibbles(v), fifthBits(qhAt, high));
}

export function dot_q5_0(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  const sixteen = i8x16.splat(16);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 22;
    const xb = x + (<usize>b << 7);
    const qh = p + 2;
    const s = f32x4.add(
      dotI8x16(i8x16.sub(fiveBitQuants(p + 6, qh, false), sixteen), xb),
      dotI8x16(i8x16.sub(fiveBitQuants(p + 6, qh, true), sixteen), xb + 64),
    );
    acc = f32x4.add(acc, f32x4.mul(s, f32x4.splat(loadScale(p))));
  }
  return hsum(acc);
}

export function dequantize_q5_0(src: usize, dst: usize, count: i32): void {
  const sixteen = i8x16.splat(16);
  for (let b = 0; b < count >> 5; b++) {
    const p = src + <usize>b * 22;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(loadScale(p));
    const qh = p + 2;
    storeScaledI8x16(i8x16.sub(fiveBitQuants(p + 6, qh, false), sixteen), d, o);
    storeScaledI8x16(i8x16.sub(fiveBitQuants(p + 6, qh, true), sixteen), d, o + 64);
  }
}

export function dot_q5_1(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  let offset: f32 = 0;
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 24;
    const xb = x + (<usize>b << 7);
    const qh = p + 4;
    const s = f32x4.add(dotI8x16(fiveBitQuants(p + 8, qh, false), xb), dotI8x16(fiveBitQuants(p + 8, qh, true), xb + 64));
    acc = f32x4.add(acc, f32x4.mul(s, f32x4.splat(loadScale(p))));
    offset += loadScale(p + 2) * load<f32>(sums + (<usize>b << 2));
  }
  return hsum(acc) + offset;
}

export function dequantize_q5_1(src: usize, dst: usize, count: i32): void {
  for (let b = 0; b < count >> 5; b++) {
    const p = src + <usize>b * 24;
    const o = dst + (<usize>b << 7);
    const d = f32x4.splat(loadScale(p));
    const m = f32x4.splat(loadScale(p + 2));
    const qh = p + 4;
    storeAffineI8x16(fiveBitQuants(p + 8, qh, false), d, m, o);
    storeAffineI8x16(fiveBitQuants(p + 8, qh, true), d, m, o + 64);
  }
}
