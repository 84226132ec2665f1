// IQ4_NL and IQ4_XS: 4-bit indices into ggml's non-linear codebook
// kvalues_iq4nl, looked up 16 at a time with i8x16.swizzle (layouts in
// src/model/quant/legacy-blocks.ts and k-blocks.ts).
//   IQ4_NL  18 bytes per 32: f16 d, 16 nibble bytes (as Q4_0)   x = d·v[q]
//   IQ4_XS 136 bytes per 256: f16 d, u16 scales_h, scales_l[4], then 8
//          sub-blocks of 16 nibble bytes; sub-block ib has the 6-bit scale
//          ls = (scales_l nibble ib) | (scales_h bits 2ib..2ib+1) << 4
//                                                            x = d·(ls − 32)·v[q]
import { dotI8x16, highNibbles, lowNibbles, storeScaledI8x16 } from './block_dot';
import { hsum, loadScale } from './half';

/** ggml's kvalues_iq4nl as i8 lanes: the value of each 4-bit index. */
@inline export function codebook(): v128 {
  return i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
}

/** Σ v[q]·x over the 32 elements whose 16 nibble bytes are at p (x at xb). */
@inline function dot32(p: usize, xb: usize, kv: v128): v128 {
  const v = v128.load(p);
  return f32x4.add(dotI8x16(i8x16.swizzle(kv, lowNibbles(v)), xb), dotI8x16(i8x16.swizzle(kv, highNibbles(v)), xb + 64));
}

@inline function store32(p: usize, d: f32, dst: usize, kv: v128): void {
  const v = v128.load(p);
  storeScaledI8x16(i8x16.swizzle(kv, lowNibbles(v)), f32x4.splat(d), dst);
  storeScaledI8x16(i8x16.swizzle(kv, highNibbles(v)), f32x4.splat(d), dst + 64);
}

export function dot_iq4_nl(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  const kv = codebook();
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 18;
    acc = f32x4.add(acc, f32x4.mul(dot32(p + 2, x + (<usize>b << 7), kv), f32x4.splat(loadScale(p))));
  }
  return hsum(acc);
}

export function dequantize_iq4_nl(src: usize, dst: usize, count: i32): void {
  const kv = codebook();
  for (let b = 0; b < count >> 5; b++) {
    const p = src + <usize>b * 18;
    store32(p + 2, loadScale(p), dst + (<usize>b << 7), kv);
  }
}

/** ls − 32 of IQ4_XS sub-block ib of the block at p (also the int16 kernel's, legacy_int16_rows.ts). */
@inline export function xsScaleMinus32(p: usize, ib: i32): i32 {
  const low = (<i32>load<u8>(p + 4 + (<usize>ib >> 1)) >> ((ib & 1) << 2)) & 0x0f;
  const high = (<i32>load<u16>(p, 2) >> (ib << 1)) & 3;
  return (low | (high << 4)) - 32;
}

/** d·(ls − 32) of IQ4_XS sub-block ib of the block at p. */
@inline function xsScale(p: usize, d: f32, ib: i32): f32 {
  return d * <f32>xsScaleMinus32(p, ib);
}

export function dot_iq4_xs(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  const kv = codebook();
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 136;
    const d = loadScale(p);
    const xb = x + (<usize>b << 10);
    for (let ib = 0; ib < 8; ib++) {
      acc = f32x4.add(acc, f32x4.mul(dot32(p + 8 + (<usize>ib << 4), xb + (<usize>ib << 7), kv), f32x4.splat(xsScale(p, d, ib))));
    }
  }
  return hsum(acc);
}

export function dequantize_iq4_xs(src: usize, dst: usize, count: i32): void {
  const kv = codebook();
  for (let b = 0; b < count >> 8; b++) {
    const p = src + <usize>b * 136;
    const d = loadScale(p);
    for (let ib = 0; ib < 8; ib++) store32(p + 8 + (<usize>ib << 4), xsScale(p, d, ib), dst + (<usize>b << 10) + (<usize>ib << 7), kv);
  }
}
