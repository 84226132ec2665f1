// One Q4_K, Q5_K or Q6_K weight row times one token's int16 activations
// (act_quant.ts: per 32-element block b an f32 scale s_b, 32 i16 values q and
// C_b = −8·Σq; entry (b, t) of T tokens is the (b·T + t)-th of each array).
// A 256-element super-block meets the 8 activation blocks it spans; every
// integer sum below is exact in i32 (bounds at each), and only the sums of
// four blocks at a time (one f32x4) are converted and scaled.
//
// Q4_K (blocks_q4_k_q5_k.ts): sub-block j is activation block 8B + j, and
//   Σ y·x ≈ s_b · (d·sc_j · Σ n·q − dmin·m_j · Σq) = s_b · (d·sc_j · Σ n·q + (dmin·m_j / 8) · C_b)
// with nibbles n widened to i16 (i32x4.dot_i16x8_s). Q5_K: the same with
// n = nibble + 16·(5th bit), bit j of the element's qh byte.
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
import { fence } from './fence';
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

/** The low (hi = false) or high nibble of u16 lanes holding a byte each: shifts only, no mask constant (V8 rematerializes v128 constants inside the loop). */
@inline function nibble(bytes: v128, hi: bool): v128 {
  return hi ? i16x8.shr_u(bytes, 4) : i16x8.shr_u(i16x8.shl(bytes, 12), 12);
}

/**
 * The 5th bits (Q5_K) of 8 elements: their qh bytes at p zero-extended into
 * i16 lanes, bit `bit` (a constant) of each as 16 or 0: one shift to bit 4
 * and a mask (1.10–1.16× three mask-free shifts, bench/kernel-builds-ab.ts).
 */
@inline function fifthBits8(p: usize, bit: i32): v128 {
  const h = v128.load8x8_u(p);
  const atFour = bit < 4 ? i16x8.shl(h, 4 - bit) : bit > 4 ? i16x8.shr_u(h, bit - 4) : h;
  return v128.and(atFour, i16x8.splat(16));
}

/**
 * Weights 8g..8g + 7 of a Q4_K / Q5_K sub-block as i16: the low (hi = false)
 * or high nibbles of the 8 bytes at b + 8g (zero-extended by the load, the
 * nibble picked by shifts); Q5_K (bit ≥ 0, a constant): plus 16 where bit
 * `bit` of the element's qh byte (at qh + 8g) is set.
 */
@inline function subBlockWeights(b: usize, g: i32, hi: bool, qh: usize, bit: i32): v128 {
  const w = nibble(v128.load8x8_u(b + (<usize>g << 3)), hi);
  return bit >= 0 ? v128.or(w, fifthBits8(qh + (<usize>g << 3), bit)) : w;
}

/** Σ w·q of one sub-block's widened weights w0..w3 against the activation block at q, as i32x4. */
@inline export function subBlockDot(w0: v128, w1: v128, w2: v128, w3: v128, q: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(q)), i32x4.dot_i16x8_s(w1, v128.load(q, 16))),
    i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(q, 32)), i32x4.dot_i16x8_s(w3, v128.load(q, 48))),
  );
}

/** Σ n·q over one Q4_K / Q5_K sub-block (see subBlockWeights), q its activation block, as i32x4. */
@inline function subBlockSum(b: usize, q: usize, hi: bool, qh: usize, bit: i32): v128 {
  return subBlockDot(
    subBlockWeights(b, 0, hi, qh, bit), subBlockWeights(b, 1, hi, qh, bit),
    subBlockWeights(b, 2, hi, qh, bit), subBlockWeights(b, 3, hi, qh, bit), q);
}

/**
 * Half h (a constant) of a Q4_K (five = false) or Q5_K super-block at p,
 * sub-blocks 4h..4h + 3 (the nibbles of chunks 2h, 2h + 1; Q5_K: qh bits
 * 4h..4h + 3), against activation blocks whose q, C and s start at q, c, s,
 * consecutive blocks qStep, cStep, sStep apart: the f32x4 of
 * s_b · (d·sc_j · Σ n·q + (dmin·m_j / 8) · C_b), j = 4h..4h + 3. Per
 * sub-block Σ n·q ≤ 32 · 31 · 16383 < 2^24 and |C| = 8·|Σq| ≤ 8 · 32 · 16383
 * < 2^23: exact in i32 and converted to f32 exactly.
 */
@inline function kHalf(five: bool, p: usize, h: i32, sc16: v128, m16: v128, d: v128, dm: v128, q: usize, qStep: usize, c: usize, cStep: usize, s: usize, sStep: usize): v128 {
  const b = p + (five ? 48 : 16) + (<usize>h << 6);
  const qh = p + 16; // Q5_K only
  const bit = five ? h << 2 : -1;
  const s0 = fence(subBlockSum(b, q, false, qh, bit));
  const s1 = fence(subBlockSum(b, q + qStep, true, qh, five ? bit + 1 : -1));
  const s2 = fence(subBlockSum(b + 32, q + 2 * qStep, false, qh, five ? bit + 2 : -1));
  const s3 = fence(subBlockSum(b + 32, q + 3 * qStep, true, qh, five ? bit + 3 : -1));
  return kHalfTerms(laneSums4(s0, s1, s2, s3), h, sc16, m16, d, dm, c, cStep, s, sStep);
}

/** kHalf's arithmetic after the integer sums: `sums` the four sub-blocks' Σ n·q (laneSums4), the rest as kHalf. */
@inline function kHalfTerms(sums4: v128, h: i32, sc16: v128, m16: v128, d: v128, dm: v128, c: usize, cStep: usize, s: usize, sStep: usize): v128 {
  const sums = f32x4.convert_i32x4_s(sums4);
  const dsc = f32x4.mul(f32x4.convert_i32x4_s(h == 0 ? i32x4.extend_low_i16x8_u(sc16) : i32x4.extend_high_i16x8_u(sc16)), d);
  const dmm = f32x4.mul(f32x4.convert_i32x4_s(h == 0 ? i32x4.extend_low_i16x8_u(m16) : i32x4.extend_high_i16x8_u(m16)), dm);
  const terms = f32x4.add(f32x4.mul(sums, dsc), f32x4.mul(f32x4.convert_i32x4_s(gather4(c, cStep)), dmm));
  return f32x4.mul(terms, gather4(s, sStep));
}

/**
 * Token t of T through one Q4_K row (`superBlocks` of 144 bytes at wr) or,
 * five = true, one Q5_K row (176 bytes: d, dmin, the same 12 scale bytes,
 * then qh[32] before the 128 nibble bytes).
 */
@inline function kRowInt16(five: bool, wr: usize, superBlocks: i32, xq: usize, T: i32, t: i32): f32 {
  const n = <usize>superBlocks * <usize>T << 3;
  const qStep = <usize>T << 6, sStep = <usize>T << 2, cStep = <usize>T << 4;
  let q = qStart(xq, n, t), s = sStart(xq, n, t), c = cStart(xq, t);
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  for (let B = 0; B < superBlocks; B++) {
    const p = wr + <usize>B * (five ? 176 : 144);
    const sm = scalesMinsK4(p + 4); // u8 lanes: scales 0..7, mins 8..15
    const sc16 = i16x8.extend_low_i8x16_u(sm), m16 = i16x8.extend_high_i8x16_u(sm);
    const d = f32x4.splat(loadScale(p));
    const dm = f32x4.splat(loadScale(p + 2) * 0.125); // dmin/8 (exact: loadScale is never subnormal)
    acc0 = f32x4.add(acc0, kHalf(five, p, 0, sc16, m16, d, dm, q, qStep, c, cStep, s, sStep));
    acc1 = f32x4.add(acc1, kHalf(five, p, 1, sc16, m16, d, dm, q + (qStep << 2), qStep, c + (cStep << 2), cStep, s + (sStep << 2), sStep));
    q += qStep << 3;
    s += sStep << 3;
    c += cStep << 3;
  }
  return hsum(f32x4.add(acc0, acc1));
}

/** Token t of T through one Q4_K row. */
@inline export function q4kRowInt16(wr: usize, superBlocks: i32, xq: usize, T: i32, t: i32): f32 {
  return kRowInt16(false, wr, superBlocks, xq, T, t);
}

/** Token t of T through one Q5_K row. */
@inline export function q5kRowInt16(wr: usize, superBlocks: i32, xq: usize, T: i32, t: i32): f32 {
  return kRowInt16(true, wr, superBlocks, xq, T, t);
}

/** Σ w·q of widened weights w0..w3 against T consecutive activation blocks from q, stored 64 bytes apart from o. */
@inline function dotsTimesT(w0: v128, w1: v128, w2: v128, w3: v128, q: usize, T: i32, o: usize): void {
  for (let t = 0; t < T; t++) {
    v128.store(o, subBlockDot(w0, w1, w2, w3, q));
    q += 64;
    o += 64;
  }
}

/**
 * The token loops' outputs: token t's even- and odd-block accumulators at
 * acc + 32·t, summed as the decode kernels do (hsum(even + odd)), to out + t·os.
 */
@inline export function storeTokenOutputs(acc: usize, T: i32, out: usize, os: usize): void {
  for (let t = 0; t < T; t++) {
    const a = acc + (<usize>t << 5);
    store<f32>(out + <usize>t * os, hsum(f32x4.add(v128.load(a), v128.load(a, 16))));
  }
}

/**
 * All T tokens through one Q4_K (five = false) or Q5_K row, for prefill: each
 * sub-block's weights are widened once (anchored in registers by fence before
 * the token loop, which V8 would otherwise sink into it) and meet every
 * token's activation block; the integer sums go to scratch, then each token
 * runs kHalfTerms on them and adds into its accumulators in scratch. The
 * integers are the decode kernel's (exact, any order) and every float
 * operation is kRowInt16's in its order, so each token's output has the bits
 * it has alone (batch invariance). out: token t's output at out + t·os.
 */
@inline export function kRowTimesT(five: bool, wr: usize, superBlocks: i32, xq: usize, T: i32, scratch: usize, out: usize, os: usize): void {
  const n = <usize>superBlocks * <usize>T << 3;
  const qBase = qStart(xq, n, 0), sBase = sStart(xq, n, 0);
  const cStep = <usize>T << 4, sStep = <usize>T << 2;
  const sums = scratch;
  const acc = scratch + (<usize>T << 6);
  memory.fill(acc, 0, <usize>T << 5);
  for (let B = 0; B < superBlocks; B++) {
    const p = wr + <usize>B * (five ? 176 : 144);
    const sm = scalesMinsK4(p + 4);
    const sc16 = i16x8.extend_low_i8x16_u(sm), m16 = i16x8.extend_high_i8x16_u(sm);
    const d = f32x4.splat(loadScale(p));
    const dm = f32x4.splat(loadScale(p + 2) * 0.125);
    kHalfTimesT(five, p, 0, B, sc16, m16, d, dm, xq, qBase, sBase, cStep, sStep, T, sums, acc);
    kHalfTimesT(five, p, 1, B, sc16, m16, d, dm, xq, qBase, sBase, cStep, sStep, T, sums, acc);
  }
  storeTokenOutputs(acc, T, out, os);
}

/** Half h (a constant) of super-block B for all T tokens (see kRowTimesT). */
@inline function kHalfTimesT(five: bool, p: usize, h: i32, B: i32, sc16: v128, m16: v128, d: v128, dm: v128,
  xq: usize, qBase: usize, sBase: usize, cStep: usize, sStep: usize, T: i32, sums: usize, acc: usize): void {
  const b = p + (five ? 48 : 16) + (<usize>h << 6);
  const qh = p + 16;
  const block0 = (<usize>B << 3) + (<usize>h << 2); // activation block of sub-block 4h
  for (let k = 0; k < 4; k++) {
    const hi = (k & 1) != 0;
    const chunk = b + (<usize>(k >> 1) << 5);
    const bit = five ? (h << 2) + k : -1;
    const w0 = fence(subBlockWeights(chunk, 0, hi, qh, bit)), w1 = fence(subBlockWeights(chunk, 1, hi, qh, bit));
    const w2 = fence(subBlockWeights(chunk, 2, hi, qh, bit)), w3 = fence(subBlockWeights(chunk, 3, hi, qh, bit));
    dotsTimesT(w0, w1, w2, w3, qBase + (((block0 + <usize>k) * <usize>T) << 6), T, sums + (<usize>k << 4));
  }
  const c0 = xq + ((block0 * <usize>T) << 4), s0 = sBase + ((block0 * <usize>T) << 2);
  for (let t = 0; t < T; t++) {
    const o = sums + (<usize>t << 6);
    const terms = kHalfTerms(laneSums4(v128.load(o), v128.load(o, 16), v128.load(o, 32), v128.load(o, 48)),
      h, sc16, m16, d, dm, c0 + (<usize>t << 4), cStep, s0 + (<usize>t << 2), sStep);
    const a = acc + (<usize>t << 5) + (<usize>h << 4);
    v128.store(a, f32x4.add(v128.load(a), terms));
  }
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

/** Half h (a constant) of a Q6_K super-block at p: the f32x4 of d·s_b·Σ over activation blocks 4h..4h + 3 (q, s and strides as q4kHalf). */
@inline function q6kHalf(p: usize, h: i32, scales: v128, d: v128, q: usize, qStep: usize, s: usize, sStep: usize): v128 {
  const s16 = h == 0 ? i16x8.extend_low_i8x16_s(scales) : i16x8.extend_high_i8x16_s(scales);
  const r = p + (<usize>h << 6), hb = p + 128 + (<usize>h << 5);
  const a0 = v128.load(r), b0 = v128.load(r, 32), h0 = v128.load(hb);
  const a1 = v128.load(r, 16), b1 = v128.load(r, 48), h1 = v128.load(hb, 16);
  const k0 = fence(q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 0, q));
  const k1 = fence(q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 1, q + qStep));
  const k2 = fence(q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 2, q + 2 * qStep));
  const k3 = fence(q6kBlockSum(a0, b0, h0, a1, b1, h1, s16, 3, q + 3 * qStep));
  const sums = laneSums4(k0, k1, k2, k3);
  return f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sums), d), gather4(s, sStep));
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
    acc0 = f32x4.add(acc0, q6kHalf(p, 0, scales, d, q, qStep, s, sStep));
    acc1 = f32x4.add(acc1, q6kHalf(p, 1, scales, d, q + (qStep << 2), qStep, s + (sStep << 2), sStep));
    q += qStep << 3;
    s += sStep << 3;
  }
  return hsum(f32x4.add(acc0, acc1));
}

/** q6kBlockSum's four scaled weight vectors of activation block k (a constant), fenced, against T tokens (see kRowTimesT). */
@inline function q6kBlockTimesT(a0: v128, b0: v128, h0: v128, a1: v128, b1: v128, h1: v128, s16: v128, k: i32, q: usize, T: i32, o: usize): void {
  const six0 = sixBits(a0, b0, h0, k), six1 = sixBits(a1, b1, h1, k);
  const sc0 = splat16(s16, k << 1), sc1 = splat16(s16, (k << 1) + 1);
  const w0 = fence(i16x8.mul(i16x8.extend_low_i8x16_s(six0), sc0)), w1 = fence(i16x8.mul(i16x8.extend_high_i8x16_s(six0), sc0));
  const w2 = fence(i16x8.mul(i16x8.extend_low_i8x16_s(six1), sc1)), w3 = fence(i16x8.mul(i16x8.extend_high_i8x16_s(six1), sc1));
  dotsTimesT(w0, w1, w2, w3, q, T, o);
}

/** All T tokens through one Q6_K row: kRowTimesT's scheme on q6kRowInt16's arithmetic (same integers, same float operations in order). */
@inline export function q6kRowTimesT(wr: usize, superBlocks: i32, xq: usize, T: i32, scratch: usize, out: usize, os: usize): void {
  const n = <usize>superBlocks * <usize>T << 3;
  const qBase = qStart(xq, n, 0), sBase = sStart(xq, n, 0);
  const sStep = <usize>T << 2;
  const sums = scratch;
  const acc = scratch + (<usize>T << 6);
  memory.fill(acc, 0, <usize>T << 5);
  for (let B = 0; B < superBlocks; B++) {
    const p = wr + <usize>B * 210;
    const d = f32x4.splat(loadScale(p + 208));
    const scales = v128.load(p, 192);
    for (let h = 0; h < 2; h++) {
      const s16 = h == 0 ? i16x8.extend_low_i8x16_s(scales) : i16x8.extend_high_i8x16_s(scales);
      const r = p + (<usize>h << 6), hb = p + 128 + (<usize>h << 5);
      const a0 = v128.load(r), b0 = v128.load(r, 32), h0 = v128.load(hb);
      const a1 = v128.load(r, 16), b1 = v128.load(r, 48), h1 = v128.load(hb, 16);
      const block0 = (<usize>B << 3) + (<usize>h << 2);
      const q = qBase + ((block0 * <usize>T) << 6), qStep = <usize>T << 6;
      q6kBlockTimesT(a0, b0, h0, a1, b1, h1, s16, 0, q, T, sums);
      q6kBlockTimesT(a0, b0, h0, a1, b1, h1, s16, 1, q + qStep, T, sums + 16);
      q6kBlockTimesT(a0, b0, h0, a1, b1, h1, s16, 2, q + 2 * qStep, T, sums + 32);
      q6kBlockTimesT(a0, b0, h0, a1, b1, h1, s16, 3, q + 3 * qStep, T, sums + 48);
      const s0 = sBase + ((block0 * <usize>T) << 2);
      for (let t = 0; t < T; t++) {
        const o = sums + (<usize>t << 6);
        const sumsT = laneSums4(v128.load(o), v128.load(o, 16), v128.load(o, 32), v128.load(o, 48));
        const terms = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sumsT), d), gather4(s0 + (<usize>t << 2), sStep));
        const a = acc + (<usize>t << 5) + (<usize>h << 4);
        v128.store(a, f32x4.add(v128.load(a), terms));
      }
    }
  }
  storeTokenOutputs(acc, T, out, os);
}
