// Q4_K and Q5_K: 256-element super-blocks of 8 sub-blocks of 32 values with
// 6-bit scales and mins packed into 12 bytes (get_scale_min_k4), layouts in
// src/model/quant/k-blocks.ts. Chunk c (0..3) of 32 quant bytes holds
// sub-block 2c in its low nibbles and 2c + 1 in its high ones (elements
// 64c + l and 64c + 32 + l of byte l).
//   Q4_K 144 bytes: f16 d, f16 dmin, scales[12], qs[128]          x = (d·sc)·q − dmin·m
//   Q5_K 176 bytes: f16 d, f16 dmin, scales[12], qh[32], qs[128]  q += 16 · (qh[l] bit j)
// dot_*: one weight row times f32 x, sums holding Σx per 32 (groupSums), so
// the min terms cost one multiply-add per sub-block; dequantize_*: rows → f32.
import { dotI16x8, dotI8x16, highNibbles, lowNibbles, storeAffineI8x16 } from './block_dot';
import { hsum, loadHalf } from './half';

/** get_scale_min_k4: the 6-bit scale of sub-block j (< 8) from the 12 bytes at s. */
@inline function scaleK4(s: usize, j: i32): i32 {
  if (j < 4) return <i32>load<u8>(s + <usize>j) & 63;
  return (<i32>load<u8>(s + <usize>(j + 4)) & 0x0f) | ((<i32>load<u8>(s + <usize>(j - 4)) >> 6) << 4);
}

/** get_scale_min_k4: the 6-bit min of sub-block j. */
@inline function minK4(s: usize, j: i32): i32 {
  if (j < 4) return <i32>load<u8>(s + <usize>(j + 4)) & 63;
  return (<i32>load<u8>(s + <usize>(j + 4)) >> 4) | ((<i32>load<u8>(s + <usize>j) >> 6) << 4);
}

/** Σ dmin·m_j·Σx_j over the block's 8 sub-blocks (sums at sb). */
@inline function minTerms(p: usize, sb: usize): f32 {
  let s: f32 = 0;
  for (let j = 0; j < 8; j++) s += <f32>minK4(p + 4, j) * load<f32>(sb + (<usize>j << 2));
  return loadHalf(p + 2) * s;
}

export function dot_q4_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  let offset: f32 = 0;
  const mask = i16x8.splat(0x0f);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 144;
    const xb = x + (<usize>b << 10);
    const d = loadHalf(p);
    for (let c = 0; c < 4; c++) {
      const q = p + 16 + (<usize>c << 5);
      const xc = xb + (<usize>c << 8);
      // Each 8 bytes once, zero-extended into i16 lanes, for both nibbles.
      let lo = f32x4.splat(0), hi = f32x4.splat(0);
      for (let g = 0; g < 4; g++) {
        const bytes = v128.load8x8_u(q + (<usize>g << 3));
        lo = f32x4.add(lo, dotI16x8(v128.and(bytes, mask), xc + (<usize>g << 5)));
        hi = f32x4.add(hi, dotI16x8(i16x8.shr_u(bytes, 4), xc + 128 + (<usize>g << 5)));
      }
      const j = c << 1;
      acc = f32x4.add(acc, f32x4.add(
        f32x4.mul(lo, f32x4.splat(d * <f32>scaleK4(p + 4, j))),
        f32x4.mul(hi, f32x4.splat(d * <f32>scaleK4(p + 4, j + 1))),
      ));
    }
    offset += minTerms(p, sums + (<usize>b << 5));
  }
  return hsum(acc) - offset;
}

export function dequantize_q4_k(src: usize, dst: usize, count: i32): void {
  for (let b = 0; b < count >> 8; b++) {
    const p = src + <usize>b * 144;
    const o = dst + (<usize>b << 10);
    const d = loadHalf(p);
    const dmin = loadHalf(p + 2);
    for (let c = 0; c < 4; c++) {
      const j = c << 1;
      const d1 = f32x4.splat(d * <f32>scaleK4(p + 4, j)), m1 = f32x4.splat(-(dmin * <f32>minK4(p + 4, j)));
      const d2 = f32x4.splat(d * <f32>scaleK4(p + 4, j + 1)), m2 = f32x4.splat(-(dmin * <f32>minK4(p + 4, j + 1)));
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + 16 + (<usize>c << 5) + (<usize>h << 4));
        const at = o + (<usize>c << 8) + (<usize>h << 6);
        storeAffineI8x16(lowNibbles(v), d1, m1, at);
        storeAffineI8x16(highNibbles(v), d2, m2, at + 128);
      }
    }
  }
}

/** 16 lanes of 16 where bit j of the qh bytes hm is set, else 0. */
@inline function highBit(hm: v128, j: i32): v128 {
  return v128.andnot(i8x16.splat(16), i8x16.eq(v128.and(hm, i8x16.splat(<i8>(<i32>1 << j))), i8x16.splat(0)));
}

export function dot_q5_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  let offset: f32 = 0;
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 176;
    const xb = x + (<usize>b << 10);
    const d = loadHalf(p);
    for (let c = 0; c < 4; c++) {
      const j = c << 1;
      let lo = f32x4.splat(0), hi = f32x4.splat(0);
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + 48 + (<usize>c << 5) + (<usize>h << 4));
        const hm = v128.load(p + 16 + (<usize>h << 4));
        const xc = xb + (<usize>c << 8) + (<usize>h << 6);
        lo = f32x4.add(lo, dotI8x16(v128.or(lowNibbles(v), highBit(hm, j)), xc));
        hi = f32x4.add(hi, dotI8x16(v128.or(highNibbles(v), highBit(hm, j + 1)), xc + 128));
      }
      acc = f32x4.add(acc, f32x4.add(
        f32x4.mul(lo, f32x4.splat(d * <f32>scaleK4(p + 4, j))),
        f32x4.mul(hi, f32x4.splat(d * <f32>scaleK4(p + 4, j + 1))),
      ));
    }
    offset += minTerms(p, sums + (<usize>b << 5));
  }
  return hsum(acc) - offset;
}

export function dequantize_q5_k(src: usize, dst: usize, count: i32): void {
  for (let b = 0; b < count >> 8; b++) {
    const p = src + <usize>b * 176;
    const o = dst + (<usize>b << 10);
    const d = loadHalf(p);
    const dmin = loadHalf(p + 2);
    for (let c = 0; c < 4; c++) {
      const j = c << 1;
      const d1 = f32x4.splat(d * <f32>scaleK4(p + 4, j)), m1 = f32x4.splat(-(dmin * <f32>minK4(p + 4, j)));
      const d2 = f32x4.splat(d * <f32>scaleK4(p + 4, j + 1)), m2 = f32x4.splat(-(dmin * <f32>minK4(p + 4, j + 1)));
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + 48 + (<usize>c << 5) + (<usize>h << 4));
        const hm = v128.load(p + 16 + (<usize>h << 4));
        const at = o + (<usize>c << 8) + (<usize>h << 6);
        storeAffineI8x16(v128.or(lowNibbles(v), highBit(hm, j)), d1, m1, at);
        storeAffineI8x16(v128.or(highNibbles(v), highBit(hm, j + 1)), d2, m2, at + 128);
      }
    }
  }
}
