// Q2_K and Q3_K: 256-element super-blocks of 16 groups of 16 values with 2-bit
// quants (Q3_K: plus a 3rd bit in hmask), layouts in src/model/quant/k-blocks.ts.
// In each 128-value half n, byte l of the 32 quant bytes holds elements
// 128n + 32j + l, j = 0..3, at bits 2j..2j+1; group is = 8n + 2j + ⌊l/16⌋
// (elements 16·is .. 16·is + 15) has one scale.
//   Q2_K  84 bytes: scales[16] (low nibble sc, high nibble m), qs[64], f16 d, f16 dmin
//                   x = (d·sc)·q − dmin·m
//   Q3_K 110 bytes: hmask[32] (element e's 3rd bit: byte e % 32, bit ⌊e/32⌋), qs[64],
//                   scales[12] (16 six-bit scales), f16 d     x = d·(sc − 32)·(q − 4)
// dot_*: one weight row times f32 x (Q2_K's sums: Σx per 16, groupSums);
// dequantize_*: rows → f32.
import { dotI8x16, storeAffineI8x16, storeScaledI8x16 } from './block_dot';
import { hsum, loadScale } from './half';

/** The 2-bit quants of elements 16·is .. 16·is + 15 (is = 8n + 2j + h) from their 16 bytes v. */
@inline function twoBits(v: v128, j: i32): v128 {
  return v128.and(i16x8.shr_u(v, j << 1), i8x16.splat(3));
}

export function dot_q2_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  let offset: f32 = 0;
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 84;
    const xb = x + (<usize>b << 10);
    const sb = sums + (<usize>b << 6);
    const d = loadScale(p + 80);
    const dmin = loadScale(p + 82);
    for (let n = 0; n < 2; n++) {
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + 16 + (<usize>n << 5) + (<usize>h << 4));
        for (let j = 0; j < 4; j++) {
          const is = (n << 3) + (j << 1) + h;
          const sc = <i32>load<u8>(p + <usize>is);
          acc = f32x4.add(acc, f32x4.mul(dotI8x16(twoBits(v, j), xb + (<usize>is << 6)), f32x4.splat(d * <f32>(sc & 0x0f))));
          offset += dmin * <f32>(sc >> 4) * load<f32>(sb + (<usize>is << 2));
        }
      }
    }
  }
  return hsum(acc) - offset;
}

export function dequantize_q2_k(src: usize, dst: usize, count: i32): void {
  for (let b = 0; b < count >> 8; b++) {
    const p = src + <usize>b * 84;
    const o = dst + (<usize>b << 10);
    const d = loadScale(p + 80);
    const dmin = loadScale(p + 82);
    for (let n = 0; n < 2; n++) {
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + 16 + (<usize>n << 5) + (<usize>h << 4));
        for (let j = 0; j < 4; j++) {
          const is = (n << 3) + (j << 1) + h;
          const sc = <i32>load<u8>(p + <usize>is);
          const dl: f32 = d * <f32>(sc & 0x0f);
          const ml: f32 = dmin * <f32>(sc >> 4);
          storeAffineI8x16(twoBits(v, j), f32x4.splat(dl), f32x4.splat(-ml), o + (<usize>is << 6));
        }
      }
    }
  }
}

/** The k-th 6-bit scale of the Q3_K block at p, minus 32. */
@inline function q3Scale(p: usize, k: i32): i32 {
  const low = k < 8 ? <i32>load<u8>(p + 96 + <usize>k) & 0x0f : <i32>load<u8>(p + 96 + <usize>(k - 8)) >> 4;
  const high = (<i32>load<u8>(p + 104 + <usize>(k & 3)) >> ((k >> 2) << 1)) & 3;
  return (low | (high << 4)) - 32;
}

/** Quants (q − 4) of elements 16·is .. +15: 2 low bits from v, minus 4 where hmask (hm) lacks the bit of (n, j). */
@inline function threeBits(v: v128, hm: v128, n: i32, j: i32): v128 {
  const clear = i8x16.eq(v128.and(hm, i8x16.splat(<i8>(<i32>1 << ((n << 2) + j)))), i8x16.splat(0));
  return i8x16.sub(twoBits(v, j), v128.and(clear, i8x16.splat(4)));
}

export function dot_q3_k(w: usize, blocks: i32, x: usize, sums: usize): f32 {
  let acc = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = w + <usize>b * 110;
    const xb = x + (<usize>b << 10);
    const d = loadScale(p + 108);
    for (let n = 0; n < 2; n++) {
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + 32 + (<usize>n << 5) + (<usize>h << 4));
        const hm = v128.load(p + (<usize>h << 4));
        for (let j = 0; j < 4; j++) {
          const is = (n << 3) + (j << 1) + h;
          acc = f32x4.add(acc, f32x4.mul(dotI8x16(threeBits(v, hm, n, j), xb + (<usize>is << 6)), f32x4.splat(d * <f32>q3Scale(p, is))));
        }
      }
    }
  }
  return hsum(acc);
}

export function dequantize_q3_k(src: usize, dst: usize, count: i32): void {
  for (let b = 0; b < count >> 8; b++) {
    const p = src + <usize>b * 110;
    const o = dst + (<usize>b << 10);
    const d = loadScale(p + 108);
    for (let n = 0; n < 2; n++) {
      for (let h = 0; h < 2; h++) {
        const v = v128.load(p + 32 + (<usize>n << 5) + (<usize>h << 4));
        const hm = v128.load(p + (<usize>h << 4));
        for (let j = 0; j < 4; j++) {
          const is = (n << 3) + (j << 1) + h;
          const dl: f32 = d * <f32>q3Scale(p, is);
          storeScaledI8x16(threeBits(v, hm, n, j), f32x4.splat(dl), o + (<usize>is << 6));
        }
      }
    }
  }
}
