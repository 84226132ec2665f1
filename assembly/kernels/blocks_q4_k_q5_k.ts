// Q4_K and Q5_K: 256-element super-blocks of 8 sub-blocks of 32 values with
// 6-bit scales and mins packed into 12 bytes (get_scale_min_k4), layouts in
// src/model/quant/k-blocks.ts. Chunk c (0..3) of 32 quant bytes holds
// sub-block 2c in its low nibbles and 2c + 1 in its high ones (elements
// 64c + l and 64c + 32 + l of byte l).
//   Q4_K 144 bytes: f16 d, f16 dmin, scales[12], qs[128]          x = (d·sc)·q − dmin·m
//   Q5_K 176 bytes: f16 d, f16 dmin, scales[12], qh[32], qs[128]  q += 16 · (qh[l] bit j)
// dot_*: one weight row times f32 x, sums holding Σx per 32 (groupSums), so
// the min terms cost one multiply-add per sub-block; the 8 scales and mins of
// a block are unpacked with SIMD once (scalesMinsK4) and broadcast per chunk
// from lanes. dequantize_*: rows → f32.
import { dotI16x8, dotI8x16, highNibbles, lowNibbles, storeAffineI8x16 } from './block_dot';
import { hsum, loadScale } from './half';

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

/**
 * get_scale_min_k4 for all 8 sub-blocks at once: the 6-bit scales (lanes
 * 0..7) and mins (lanes 8..15) of the block whose 12 scale bytes are at s.
 * Pairs 0..3: low 6 bits of bytes j and j + 4; pairs 4..7: the nibbles of
 * byte j + 4 below the top 2 bits of bytes j − 4 (scale) and j (min).
 */
@inline export function scalesMinsK4(s: usize): v128 {
  const v = v128.load(s); // the 12 scale bytes (and 4 quant bytes, unused)
  const low = v128.and(
    i8x16.shuffle(v, i16x8.shr_u(v, 4), 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 24, 25, 26, 27),
    i8x16(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15),
  );
  const top = i8x16.shuffle(v, i8x16.splat(0), 16, 16, 16, 16, 0, 1, 2, 3, 16, 16, 16, 16, 4, 5, 6, 7);
  // (b >> 6) << 4 as one 16-bit shift and a mask (bits from the neighbouring byte land outside 0x30).
  return v128.or(low, v128.and(i16x8.shr_u(top, 2), i8x16.splat(0x30)));
}

/** Lanes 0..3 (high = false) or 4..7 of 8 small u16 lanes as f32x4, times f. */
@inline function scaled4(v16: v128, high: bool, f: f32): v128 {
  return f32x4.mul(f32x4.convert_i32x4_s(high ? i32x4.extend_high_i16x8_u(v16) : i32x4.extend_low_i16x8_u(v16)), f32x4.splat(f));
}

/** Σ_j dmin·m_j·Σx_j of a block as f32x4 lanes (mins m16 as u16 lanes, the block's 8 activation sums at sb). */
@inline function minTerms(m16: v128, dmin: f32, sb: usize): v128 {
  return f32x4.add(f32x4.mul(scaled4(m16, false, dmin), v128.load(sb)), f32x4.mul(scaled4(m16, true, dmin), v128.load(sb, 16)));
}

/**
 * acc + lo·(d·sc of sub-block 2c) + hi·(d·sc of 2c + 1): lanes 2c % 4 and
 * 2c % 4 + 1 of scLo (c < 2) or scHi, broadcast by shuffles.
 */
@inline function addChunk(acc: v128, lo: v128, hi: v128, scLo: v128, scHi: v128, c: i32): v128 {
  const scales = c < 2 ? scLo : scHi;
  const pair = (c & 1) == 0
    ? i8x16.shuffle(scales, scales, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7)
    : i8x16.shuffle(scales, scales, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  return f32x4.add(acc, f32x4.add(
    f32x4.mul(lo, i8x16.shuffle(pair, pair, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)),
    f32x4.mul(hi, i8x16.shuffle(pair, pair, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7)),
  ));
}

export function dot_q4_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  const mask = i16x8.splat(0x0f);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 144;
    const xb = x + (<usize>b << 10);
    const sm = scalesMinsK4(p + 4);
    const sc16 = i16x8.extend_low_i8x16_u(sm);
    const m16 = i16x8.extend_high_i8x16_u(sm);
    const d = loadScale(p);
    const dmin = loadScale(p + 2);
    const scLo = scaled4(sc16, false, d), scHi = scaled4(sc16, true, d);
    acc = f32x4.sub(acc, minTerms(m16, dmin, sums + (<usize>b << 5)));
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
      acc = addChunk(acc, lo, hi, scLo, scHi, c);
    }
  }
  return hsum(acc);
}

/** 16 lanes of 16 where bit j of the qh bytes hm is set, else 0. */
@inline function highBit(hm: v128, j: i32): v128 {
  return v128.andnot(i8x16.splat(16), i8x16.eq(v128.and(hm, i8x16.splat(<i8>(<i32>1 << j))), i8x16.splat(0)));
}

export function dot_q5_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 176;
    const xb = x + (<usize>b << 10);
    const sm = scalesMinsK4(p + 4);
    const sc16 = i16x8.extend_low_i8x16_u(sm);
    const d = loadScale(p);
    const scLo = scaled4(sc16, false, d), scHi = scaled4(sc16, true, d);
    acc = f32x4.sub(acc, minTerms(i16x8.extend_high_i8x16_u(sm), loadScale(p + 2), sums + (<usize>b << 5)));
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
      acc = addChunk(acc, lo, hi, scLo, scHi, c);
    }
  }
  return hsum(acc);
}

/** Q4_K (five = false) or Q5_K rows → f32: (d·sc)·q + (−dmin·m), as ggml's dequantize_row_q4_K / q5_K. */
@inline function dequantizeK45(src: usize, dst: usize, count: i32, five: bool): void {
  const blockBytes: usize = five ? 176 : 144;
  const qs: usize = five ? 48 : 16;
  for (let b = 0; b < count >> 8; b++) {
    const p = src + <usize>b * blockBytes;
    const o = dst + (<usize>b << 10);
    const d = loadScale(p);
    const dmin = loadScale(p + 2);
    for (let c = 0; c < 4; c++) {
      const j = c << 1;
      const d1 = f32x4.splat(d * <f32>scaleK4(p + 4, j)), m1 = f32x4.splat(-(dmin * <f32>minK4(p + 4, j)));
      const d2 = f32x4.splat(d * <f32>scaleK4(p + 4, j + 1)), m2 = f32x4.splat(-(dmin * <f32>minK4(p + 4, j + 1)));
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + qs + (<usize>c << 5) + (<usize>h << 4));
        const at = o + (<usize>c << 8) + (<usize>h << 6);
        let lo = lowNibbles(v), hi = highNibbles(v);
        if (five) {
          const hm = v128.load(p + 16 + (<usize>h << 4));
          lo = v128.or(lo, highBit(hm, j));
          hi = v128.or(hi, highBit(hm, j + 1));
        }
        storeAffineI8x16(lo, d1, m1, at);
        storeAffineI8x16(hi, d2, m2, at + 128);
      }
    }
  }
}

export function dequantize_q4_k(src: usize, dst: usize, count: i32): void {
  dequantizeK45(src, dst, count, false);
}

export function dequantize_q5_k(src: usize, dst: usize, count: i32): void {
  dequantizeK45(src, dst, count, true);
}
