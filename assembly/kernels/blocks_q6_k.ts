// Q6_K: 256-element super-blocks of 16 groups of 16 values, 6-bit quants split
// into a low nibble (ql) and 2 high bits (qh), an i8 scale per group and one
// f16 d (210 bytes: ql[128], qh[64], scales[16], d; src/model/quant/k-blocks.ts).
// In half n (0..1), for l < 32, with a = ql[64n + l], b = ql[64n + 32 + l],
// h = qh[32n + l], the four elements 128n + 32k + l (k = 0..3) are
//   k 0: a & 15 | (h & 3) << 4        k 1: b & 15 | (h >> 2 & 3) << 4
//   k 2: a >> 4 | (h >> 4 & 3) << 4   k 3: b >> 4 | (h >> 6 & 3) << 4
// minus 32, scaled by d·scales[8n + 2k + ⌊l/16⌋].
import { dotI8x16, highNibbles, lowNibbles, storeScaledI8x16 } from './block_dot';
import { hsum, loadScale } from './half';

/** The 16 quants (q − 32) of element group (n, k, s), l = 16s..16s + 15, from the 16-byte rows a, b, h. */
@inline export function sixBits(a: v128, b: v128, h: v128, k: i32): v128 {
  const top = i8x16.splat(0x30);
  let q: v128;
  if (k == 0) q = v128.or(lowNibbles(a), v128.and(i16x8.shl(h, 4), top));
  else if (k == 1) q = v128.or(lowNibbles(b), v128.and(i16x8.shl(h, 2), top));
  else if (k == 2) q = v128.or(highNibbles(a), v128.and(h, top));
  else q = v128.or(highNibbles(b), v128.and(i16x8.shr_u(h, 2), top));
  return i8x16.sub(q, i8x16.splat(32));
}

@inline function groupScale(p: usize, d: f32, n: i32, k: i32, s: i32): f32 {
  return d * <f32>load<i8>(p + 192 + <usize>((n << 3) + (k << 1) + s));
}

/** [Σa, Σb, Σc, Σe]: the lane sums of four f32x4 (a 4×4 transpose-add). */
@inline function sum4(a: v128, b: v128, c: v128, e: v128): v128 {
  const ab = f32x4.add(i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  const ce = f32x4.add(i8x16.shuffle(c, e, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), i8x16.shuffle(c, e, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  return f32x4.add(i8x16.shuffle(ab, ce, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), i8x16.shuffle(ab, ce, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31));
}

/** d·scale of groups 8n + s + 2k, k = 0..3, as f32x4 (s16: the 8 i16 scales of half n). */
@inline function groupScales(s16: v128, d: v128, s: i32): v128 {
  const picked = s == 0
    ? i8x16.shuffle(s16, s16, 0, 1, 4, 5, 8, 9, 12, 13, 0, 1, 4, 5, 8, 9, 12, 13)
    : i8x16.shuffle(s16, s16, 2, 3, 6, 7, 10, 11, 14, 15, 2, 3, 6, 7, 10, 11, 14, 15);
  return f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(picked)), d);
}

export function dot_q6_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  for (let blk = 0; blk < blocks; blk++) {
    const p = w + <usize>blk * 210;
    const xb = x + (<usize>blk << 10);
    const d = f32x4.splat(loadScale(p + 208));
    const scales = v128.load(p, 192);
    for (let n = 0; n < 2; n++) {
      const s16 = n == 0 ? i16x8.extend_low_i8x16_s(scales) : i16x8.extend_high_i8x16_s(scales);
      for (let s = 0; s < 2; s++) {
        const h = v128.load(p + 128 + (<usize>n << 5) + (<usize>s << 4));
        const xs = xb + (<usize>n << 9) + (<usize>s << 6);
        // The four groups' dot products (groups 0 and 2 from the ql bytes a, 1 and 3 from b),
        // summed across lanes and scaled at once.
        const a = v128.load(p + (<usize>n << 6) + (<usize>s << 4));
        const d0 = dotI8x16(sixBits(a, a, h, 0), xs);
        const d2 = dotI8x16(sixBits(a, a, h, 2), xs + 256);
        const b = v128.load(p + (<usize>n << 6) + 32 + (<usize>s << 4));
        const d1 = dotI8x16(sixBits(b, b, h, 1), xs + 128);
        const d3 = dotI8x16(sixBits(b, b, h, 3), xs + 384);
        const dots = sum4(d0, d1, d2, d3);
        acc = f32x4.add(acc, f32x4.mul(dots, groupScales(s16, d, s)));
      }
    }
  }
  return hsum(acc);
}

export function dequantize_q6_k(src: usize, dst: usize, count: i32): void {
  for (let blk = 0; blk < count >> 8; blk++) {
    const p = src + <usize>blk * 210;
    const o = dst + (<usize>blk << 10);
    const d = loadScale(p + 208);
    for (let n = 0; n < 2; n++) {
      for (let s = 0; s < 2; s++) {
        const a = v128.load(p + (<usize>n << 6) + (<usize>s << 4));
        const b = v128.load(p + (<usize>n << 6) + 32 + (<usize>s << 4));
        const h = v128.load(p + 128 + (<usize>n << 5) + (<usize>s << 4));
        const at = o + (<usize>n << 9) + (<usize>s << 6);
        for (let k = 0; k < 4; k++) {
          storeScaledI8x16(sixBits(a, b, h, k), f32x4.splat(groupScale(p, d, n, k, s)), at + (<usize>k << 7));
        }
      }
    }
  }
}
