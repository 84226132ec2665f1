// The int16 matmuls' pass for prefill and batched decode (from tokenLoopMinT
// tokens, matmul_int16_tiles.ts), two rows at a time: each weight block is
// widened to i16 once into scratch, loaded back into registers (8 xmm for two
// rows, plus their two d splats), and a loop over all T tokens meets it
// with each token's activation block (block-major, so these are consecutive,
// act_quant.ts), the per-token f32 accumulators in the caller's scratch.
//
// Instructions per (row, token, block), Q8_0 on x64 (relaxed build):
//   fixed by batch invariance: 4 i32x4.dot, 3 i32x4.add, convert, d·s, madd = 10
//   token loop: 2 activation loads (4 shared by the two rows), ½ s splat,
//   accumulator load + store, ~2½ pointer/loop ≈ 17 in all. The loop before
//   this (weights reloaded from scratch for every token, 8 loads per token)
//   was ≈ 21: measured 38 → 55 GFLOP/s at T = 64 (BENCHMARKS.md).
// What was tried and measured worse or equal on this machine (V8 11.3, Node 20,
// 15 allocatable xmm):
//   - widening straight into registers (no scratch): V8 sinks the pure extends
//     (and the d conversion) into the token loop: 0.75-0.9x;
//   - two tokens a step: V8 hoists the second token's loads and spills: 0.9x;
//   - d·s from a scratch load instead of a held d splat (frees 2 xmm): 1.0x;
//   - more rows: 4 xmm of widened weights a row, so a third row spills.
// Accumulators stay in memory: holding them in registers means the token
// tile, not the weights, stays put across blocks, and with 2 (even, odd) per
// (row, token) a 2 × 2 tile already needs all 15 registers.
//
// Batch invariance: a token's outputs are the same bits whatever T is, so a
// request's logits (and its seeded samples) do not depend on what else shares
// its forward step. Every pass therefore does the decode kernel's arithmetic
// per token: the same i32x4 lane sums per block (Q4_0 in the relaxed build:
// the byte-plane dot products, whose lanes differ from the widened ones; the
// i32 adds of the four dot products may come in any order, integer sums are
// exact), the same d·s product, even blocks into one accumulator and odd
// blocks into another, and hsum(even + odd) at the end.
import { actHeaderBytes } from './act_quant';
import { hsum, loadHalf } from './half';
import { nibblesHi, nibblesLo, planesSum } from './matmul_int16_planes';
import { blockBytes } from './quant_blocks';
import { madd } from './simd';

/** Whether Q's blocks are dotted on byte planes (the relaxed build's Q4_0, as its decode kernel does). */
@inline export function planes<Q>(): bool {
  return ASC_FEATURE_RELAXED_SIMD && !isSigned<Q>();
}

/**
 * The 32 weights of the block at p widened to i16 into wide (Q8_0 sign-extended
 * bytes; Q4_0 nibbles 0..15, low then high; planes<Q>(): the two nibble
 * vectors as bytes), d splatted at wide + 64.
 */
@inline function widenBlock<Q>(p: usize, wide: usize): void {
  if (planes<Q>()) {
    v128.store(wide, nibblesLo(p));
    v128.store(wide, nibblesHi(p), 16);
  } else if (isSigned<Q>()) {
    v128.store(wide, v128.load8x8_s(p, 2));
    v128.store(wide, v128.load8x8_s(p, 10), 16);
    v128.store(wide, v128.load8x8_s(p, 18), 32);
    v128.store(wide, v128.load8x8_s(p, 26), 48);
  } else {
    const raw = v128.load(p, 2);
    const nl = v128.and(raw, i8x16.splat(0x0f)), nh = v128.and(i16x8.shr_u(raw, 4), i8x16.splat(0x0f));
    v128.store(wide, i16x8.extend_low_i8x16_u(nl));
    v128.store(wide, i16x8.extend_high_i8x16_u(nl), 16);
    v128.store(wide, i16x8.extend_low_i8x16_u(nh), 32);
    v128.store(wide, i16x8.extend_high_i8x16_u(nh), 48);
  }
  v128.store(wide, f32x4.splat(loadHalf(p)), 64);
}

/** One token of twoRowsTimesT: both rows' block sums, scaled into the accumulators at a and a + 16. */
@inline function tokenStep<Q, D>(w00: v128, w01: v128, w02: v128, w03: v128, w10: v128, w11: v128, w12: v128, w13: v128,
  d0: v128, d1: v128, q: usize, h: usize, l: usize, c: usize, s: usize, a: usize): void {
  // Both rows' sums before either store, so the activation loads serve both (a store could alias them).
  let sum0: v128, sum1: v128;
  if (planes<Q>()) {
    sum0 = planesSum<D>(w00, w01, h, l, c);
    sum1 = planesSum<D>(w10, w11, h, l, c);
  } else {
    // Chunk by chunk, both rows per activation vector (the i32 lane sums are exact in any order).
    const q0 = v128.load(q);
    sum0 = i32x4.dot_i16x8_s(w00, q0);
    sum1 = i32x4.dot_i16x8_s(w10, q0);
    const q1 = v128.load(q, 16);
    sum0 = i32x4.add(sum0, i32x4.dot_i16x8_s(w01, q1));
    sum1 = i32x4.add(sum1, i32x4.dot_i16x8_s(w11, q1));
    const q2 = v128.load(q, 32);
    sum0 = i32x4.add(sum0, i32x4.dot_i16x8_s(w02, q2));
    sum1 = i32x4.add(sum1, i32x4.dot_i16x8_s(w12, q2));
    const q3 = v128.load(q, 48);
    sum0 = i32x4.add(sum0, i32x4.dot_i16x8_s(w03, q3));
    sum1 = i32x4.add(sum1, i32x4.dot_i16x8_s(w13, q3));
    if (!isSigned<Q>()) {
      const cv = v128.load(c);
      sum0 = i32x4.add(sum0, cv);
      sum1 = i32x4.add(sum1, cv);
    }
  }
  const sv = v128.load32_splat(s);
  v128.store(a, madd(f32x4.convert_i32x4_s(sum0), f32x4.mul(d0, sv), v128.load(a)));
  v128.store(a, madd(f32x4.convert_i32x4_s(sum1), f32x4.mul(d1, sv), v128.load(a, 16)), 16);
}

/** Scratch of twoRowsTimesT: two widened blocks (80 bytes each), then per token the even- and odd-block accumulator pairs (64 bytes). */
export const WIDE_BYTES: usize = 160;

/**
 * Rows r0 and r1 (may be equal for an odd last row) times T tokens: out[t, r]
 * for both. Each weight block is widened once into scratch and loaded back
 * into registers before the token loop: loads stay where they are, while V8
 * would sink a widening in registers (pure, loop-invariant) into the loop and
 * redo it for every token. The −8 of Q4_0 comes from C.
 */
@inline export function twoRowsTimesT<Q, D>(r0: usize, r1: usize, blocks: i32, xq: usize, T: i32, scratch: usize, o0: usize, o1: usize, os: usize): void {
  const bb = blockBytes<Q>();
  const n = <usize>blocks * <usize>T;
  const sBase = xq + (n << 4);
  const qBase = xq + actHeaderBytes(n);
  const hBase = qBase + (n << 6);
  const wide0 = scratch;
  const wide1 = scratch + 80;
  const acc = scratch + WIDE_BYTES;
  memory.fill(acc, 0, <usize>T << 6);
  for (let b = 0; b < blocks; b++) {
    widenBlock<Q>(r0 + <usize>b * bb, wide0);
    widenBlock<Q>(r1 + <usize>b * bb, wide1);
    const e0 = <usize>b * <usize>T;
    let s = sBase + (e0 << 2);
    let c = xq + (e0 << 4);
    let q = qBase + (e0 << 6);
    let h = hBase + (e0 << 5);
    let a = acc + (<usize>(b & 1) << 5);
    const w00 = v128.load(wide0), w01 = v128.load(wide0, 16), w02 = v128.load(wide0, 32), w03 = v128.load(wide0, 48);
    const w10 = v128.load(wide1), w11 = v128.load(wide1, 16), w12 = v128.load(wide1, 32), w13 = v128.load(wide1, 48);
    const d0 = v128.load(wide0, 64), d1 = v128.load(wide1, 64);
    // One token a step: unrolled by two tokens, V8 hoists the second token's loads and spills (measured 0.9x).
    for (let t = 0; t < T; t++) {
      tokenStep<Q, D>(w00, w01, w02, w03, w10, w11, w12, w13, d0, d1, q, h, h + (n << 5), c, s, a);
      s += 4;
      c += 16;
      q += 64;
      h += 32;
      a += 64;
    }
  }
  for (let t = 0; t < T; t++) {
    const a = acc + (<usize>t << 6);
    store<f32>(o0 + <usize>t * os, hsum(f32x4.add(v128.load(a), v128.load(a, 32))));
    store<f32>(o1 + <usize>t * os, hsum(f32x4.add(v128.load(a, 16), v128.load(a, 48))));
  }
}
