// One Q4_K or Q6_K weight row times one token's int16 activations
// (act_quant.ts: per 32-element block b an f32 scale s_b, 32 i16 values q and
// C_b = −8·Σq; entry (b, t) of T tokens is the (b·T + t)-th of each array).
// A 256-element super-block meets the 8 activation blocks it spans; every
// integer sum below is exact in i32 (bounds at each), and only the sums of
// four blocks at a time (one f32x4) are converted and scaled.
//
// Q4_K (blocks_q4_k_q5_k.ts): sub-block j is activation block 8B + j, and
//   Σ y·x ≈ s_b · (d·sc_j · Σ n·q − dmin·m_j · Σq) = s_b · (d·sc_j · Σ n·q + (dmin·m_j / 8) · C_b)
// with nibbles n widened to i16 (i32x4.dot_i16x8_s).
// Q6_K (blocks_q6_k.ts): activation block (n, k) covers groups 8n + 2k (its
// elements 0..15) and 8n + 2k + 1 (16..31), each with its own i8 scale: the
// 6-bit values minus 32 are multiplied by their group's scale in i16 lanes
// before the dot product, so one exact i32 sum carries both halves.
//
// The arithmetic of a token does not depend on T (only the addresses do): a
// token's output bits are the same in decode and in any batch.
import { actHeaderBytes } from './act_quant';
import { scalesMinsK4 } from './blocks_q4_k_q5_k';
import { sixBits } from './blocks_q6_k';
import { hsum, loadScale } from './half';

/** Lanes 0 of the four i32/f32 at p, p + stride, p + 2·stride, p + 3·stride, as one vector. */
@inline function gather4(p: usize, stride: usize): v128 {
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + stride, v, 1);
  v = v128.load32_lane(p + 2 * stride, v, 2);
  return v128.load32_lane(p + 3 * stride, v, 3);
}

/** [Σa, Σb, Σc, Σe]: the lane sums of four i32x4 (a 4×4 transpose-add; exact, see the callers' bounds). */
@inline function laneSums4(a: v128, b: v128, c: v128, e: v128): v128 {
  const ab = i32x4.add(i8x16.shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), i8x16.shuffle(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31));
  const ce = i32x4.add(i8x16.shuffle(c, e, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), i8x16.shuffle(c, e, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31));
  return i32x4.add(i8x16.shuffle(ab, ce, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), i8x16.shuffle(ab, ce, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31));
}

/** Where token t's activation arrays start and how far apart consecutive blocks are (T tokens, n = B·T entries). */
@inline function qStart(xq: usize, n: usize, t: i32): usize { return xq + actHeaderBytes(n) + (<usize>t << 6); }
@inline function sStart(xq: usize, n: usize, t: i32): usize { return xq + (n << 4) + (<usize>t << 2); }
@inline function cStart(xq: usize, t: i32): usize { return xq + (<usize>t << 4); }

/** Σ over 8 elements of nibbles (u16 lanes 0..15) times the 8 i16 at q, as i32x4. */
@inline function nibbleDot(n16: v128, q: usize): v128 {
  return i32x4.dot_i16x8_s(n16, v128.load(q));
}

/**
 * Token t of T through one Q4_K row (`superBlocks` of 144 bytes at wr). Per
 * sub-block, Σ n·q ≤ 32 · 15 · 16383 < 2^23 (exact in i32 and in f32), and
 * |C| = 8·|Σq| ≤ 8 · 32 · 16383 < 2^23, so both convert to f32 exactly.
 */
@inline export function q4kRowInt16(wr: usize, superBlocks: i32, xq: usize, T: i32, t: i32): f32 {
  const n = <usize>superBlocks * <usize>T << 3;
  const qStep = <usize>T << 6, sStep = <usize>T << 2, cStep = <usize>T << 4;
  let q = qStart(xq, n, t), s = sStart(xq, n, t), c = cStart(xq, t);
  const low = i16x8.splat(0x0f);
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  for (let B = 0; B < superBlocks; B++) {
    const p = wr + <usize>B * 144;
    const sm = scalesMinsK4(p + 4); // u8 lanes: scales 0..7, mins 8..15
    const sc16 = i16x8.extend_low_i8x16_u(sm), m16 = i16x8.extend_high_i8x16_u(sm);
    const d = f32x4.splat(loadScale(p));
    const dm = f32x4.splat(loadScale(p + 2) * 0.125); // dmin/8 (exact: loadScale is never subnormal)
    for (let h = 0; h < 2; h++) {
      // Chunks 2h and 2h + 1: sub-blocks 4h, 4h + 1 (low and high nibbles of the first 32 bytes), 4h + 2, 4h + 3.
      const qa = p + 16 + (<usize>h << 6);
      let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
      for (let g = 0; g < 4; g++) {
        const ba = v128.load8x8_u(qa + (<usize>g << 3)), bb = v128.load8x8_u(qa + 32 + (<usize>g << 3));
        const qg = q + (<usize>g << 4);
        s0 = i32x4.add(s0, nibbleDot(v128.and(ba, low), qg));
        s1 = i32x4.add(s1, nibbleDot(i16x8.shr_u(ba, 4), qg + qStep));
        s2 = i32x4.add(s2, nibbleDot(v128.and(bb, low), qg + 2 * qStep));
        s3 = i32x4.add(s3, nibbleDot(i16x8.shr_u(bb, 4), qg + 3 * qStep));
      }
      const sums = f32x4.convert_i32x4_s(laneSums4(s0, s1, s2, s3));
      const dsc = f32x4.mul(f32x4.convert_i32x4_s(h == 0 ? i32x4.extend_low_i16x8_u(sc16) : i32x4.extend_high_i16x8_u(sc16)), d);
      const dmm = f32x4.mul(f32x4.convert_i32x4_s(h == 0 ? i32x4.extend_low_i16x8_u(m16) : i32x4.extend_high_i16x8_u(m16)), dm);
      const terms = f32x4.add(f32x4.mul(sums, dsc), f32x4.mul(f32x4.convert_i32x4_s(gather4(c, cStep)), dmm));
      const scaled = f32x4.mul(terms, gather4(s, sStep));
      if (h == 0) acc0 = f32x4.add(acc0, scaled);
      else acc1 = f32x4.add(acc1, scaled);
      q += qStep << 2;
      s += sStep << 2;
      c += cStep << 2;
    }
  }
  return hsum(f32x4.add(acc0, acc1));
}

/** Lane j (0..7, a constant) of eight i16 lanes, splatted. */
@inline function splat16(v: v128, j: i32): v128 {
  if (j == 0) return i8x16.shuffle(v, v, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
  if (j == 1) return i8x16.shuffle(v, v, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
  if (j == 2) return i8x16.shuffle(v, v, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5);
  if (j == 3) return i8x16.shuffle(v, v, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7);
  if (j == 4) return i8x16.shuffle(v, v, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9);
  if (j == 5) return i8x16.shuffle(v, v, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11);
  if (j == 6) return i8x16.shuffle(v, v, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13);
  return i8x16.shuffle(v, v, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15);
}

/** Σ over 16 i8 lanes w (q6 − 32) times the group scale sc (splatted i16) times the 16 i16 at q, as i32x4; |w·sc| ≤ 32 · 128 fits i16. */
@inline function scaledDot16(w: v128, sc: v128, q: usize): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.mul(i16x8.extend_low_i8x16_s(w), sc), v128.load(q)),
    i32x4.dot_i16x8_s(i16x8.mul(i16x8.extend_high_i8x16_s(w), sc), v128.load(q, 16)),
  );
}

/**
 * Σ_l sc·(q6 − 32)·q over activation block (n, k) of a Q6_K super-block: a0,
 * b0, h0 the ql/qh rows of its elements 0..15, a1, b1, h1 of 16..31, s16 the
 * eight i16 scales of half n. |Σ| ≤ 32 · 32 · 128 · 16383 = 2 147 352 576 <
 * 2^31: exact in i32 for every scale (the extreme −32 · −128 · ±16383 included).
 */
@inline function q6kBlockSum(a0: v128, b0: v128, h0: v128, a1: v128, b1: v128, h1: v128, s16: v128, k: i32, q: usize): v128 {
  return i32x4.add(
    scaledDot16(sixBits(a0, b0, h0, k), splat16(s16, k << 1), q),
    scaledDot16(sixBits(a1, b1, h1, k), splat16(s16, (k << 1) + 1), q + 32),
  );
}

/** Token t of T through one Q6_K row (`superBlocks` of 210 bytes at wr). */
@inline export function q6kRowInt16(wr: usize, superBlocks: i32, xq: usize, T: i32, t: i32): f32 {
  const n = <usize>superBlocks * <usize>T << 3;
  const qStep = <usize>T << 6, sStep = <usize>T << 2;
  let q = qStart(xq, n, t), s = sStart(xq, n, t);
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  for (let B = 0; B < superBlocks; B++) {
    const p = wr + <usize>B * 210;
    const d = f32x4.splat(loadScale(p + 208));
    const scales = v128.load(p, 192);
    for (let h = 0; h < 2; h++) {
      const s16 = h == 0 ? i16x8.extend_low_i8x16_s(scales) : i16x8.extend_high_i8x16_s(scales);
      const r = p + (<usize>h << 6), hb = p + 128 + (<usize>h << 5);
      const a0 = v128.load(r), b0 = v128.load(r, 32), h0 = v128.load(hb);
      const a1 = v128.load(r, 16), b1 = v128.load(r, 48), h1 = v128.load(hb, 16);
      const sums = laneSums4(
        q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 0, q),
        q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 1, q + qStep),
        q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 2, q + 2 * qStep),
        q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 3, q + 3 * qStep),
      );
      const scaled = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sums), d), gather4(s, sStep));
      if (h == 0) acc0 = f32x4.add(acc0, scaled);
      else acc1 = f32x4.add(acc1, scaled);
      q += qStep << 2;
      s += sStep << 2;
    }
  }
  return hsum(f32x4.add(acc0, acc1));
}
