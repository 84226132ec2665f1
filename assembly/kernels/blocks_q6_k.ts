// Q6_K: 256-element super-blocks of 16 groups of 16 values, 6-bit quants split
// into a low nibble (ql) and 2 high bits (qh), an i8 scale per group and one
// f16 d (210 bytes: ql[128], qh[64], scales[16], d; src/model/quant/k-blocks.ts).
// In half n (0..1), for l < 32, with a = ql[64n + l], b = ql[64n + 32 + l],
// h = qh[32n + l], the four elements 128n + 32k + l (k = 0..3) are
//   k 0: a & 15 | (h & 3) << 4        k 1: b & 15 | (h >> 2 & 3) << 4
//   k 2: a >> 4 | (h >> 4 & 3) << 4   k 3: b >> 4 | (h >> 6 & 3) << 4
// minus 32, scaled by d·scales[8n + 2k + ⌊l/16⌋].
import { dotI8x16, highNibbles, lowNibbles, storeScaledI8x16 } from './block_dot';
import { hsum, loadHalf } from './half';

/** The 16 quants (q − 32) of element group (n, k, s), l = 16s..16s + 15, from the 16-byte rows a, b, h. */
@inline function sixBits(a: v128, b: v128, h: v128, k: i32): v128 {
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

export function dot_q6_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  for (let blk = 0; blk < blocks; blk++) {
    const p = w + <usize>blk * 210;
    const xb = x + (<usize>blk << 10);
    const d = loadHalf(p + 208);
    for (let n = 0; n < 2; n++) {
      for (let s = 0; s < 2; s++) {
        const a = v128.load(p + (<usize>n << 6) + (<usize>s << 4));
        const b = v128.load(p + (<usize>n << 6) + 32 + (<usize>s << 4));
        const h = v128.load(p + 128 + (<usize>n << 5) + (<usize>s << 4));
        const xs = xb + (<usize>n << 9) + (<usize>s << 6);
        acc = f32x4.add(acc, f32x4.add(
          f32x4.mul(dotI8x16(sixBits(a, b, h, 0), xs), f32x4.splat(groupScale(p, d, n, 0, s))),
          f32x4.mul(dotI8x16(sixBits(a, b, h, 1), xs + 128), f32x4.splat(groupScale(p, d, n, 1, s))),
        ));
        acc = f32x4.add(acc, f32x4.add(
          f32x4.mul(dotI8x16(sixBits(a, b, h, 2), xs + 256), f32x4.splat(groupScale(p, d, n, 2, s))),
          f32x4.mul(dotI8x16(sixBits(a, b, h, 3), xs + 384), f32x4.splat(groupScale(p, d, n, 3, s))),
        ));
      }
    }
  }
  return hsum(acc);
}

export function dequantize_q6_k(src: usize, dst: usize, count: i32): void {
  for (let blk = 0; blk < count >> 8; blk++) {
    const p = src + <usize>blk * 210;
    const o = dst + (<usize>blk << 10);
    const d = loadHalf(p + 208);
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
