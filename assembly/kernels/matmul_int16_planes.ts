// Relaxed-SIMD decode (one token) of Q4_0 weights against int16 activations
// held as two byte planes, q = 128·h + l (act_quant.ts): the nibbles (0..15)
// are the 7-bit operand of the relaxed dot product as they come from memory,
// h and l the signed one, so a block costs one load, three unpacking ops and
// four byte dot products instead of widening 32 nibbles to i16. The −8 offset
// enters through the C vector, the accumulator's start value.
//
// D selects the dot form (both exported, the self-test picks one):
//   i32: i32x4.relaxed_dot_i8x16_i7x16_add_s — one vpdpbusd where the CPU has
//        AVX-VNNI; wrong on Node 20's V8 (kernel-build.ts)
//   i16: i16x8.relaxed_dot_i8x16_i7x16_s, then pairwise widening adds
// In the plain build this file is never called (matmul_int16_tiles.ts).
import { hsum } from './half';
import { actHeaderBytes } from './act_quant';
import { scaleInto } from './matmul_int16';

/** Σ (n − 8)·q of one Q4_0 block: nLo, nHi its nibbles of elements 0..15 and 16..31 (0..15 each), h, l the block's planes, c its C vector. */
@inline export function planesSum<D>(nLo: v128, nHi: v128, h: usize, l: usize, c: usize): v128 {
  if (sizeof<D>() == 4) {
    const hs = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(h, 16), nHi,
      i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(h), nLo, i32x4.splat(0)));
    const ls = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(l, 16), nHi,
      i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(l), nLo, v128.load(c)));
    return i32x4.add(i32x4.shl(hs, 7), ls);
  }
  // Lanes of the i16 sums stay below 2 · 2 · 128 · 15 = 7680.
  const hs = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(h), nLo), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(h, 16), nHi));
  const ls = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(l), nLo), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(l, 16), nHi));
  return i32x4.add(i32x4.add(i32x4.dot_i16x8_s(hs, i16x8.splat(128)), i32x4.extadd_pairwise_i16x8_s(ls)), v128.load(c));
}

/** The nibbles of elements 0..15 of the Q4_0 block at p. */
@inline export function nibblesLo(p: usize): v128 {
  return v128.and(v128.load(p, 2), i8x16.splat(0x0f));
}

/** The nibbles of elements 16..31 of the Q4_0 block at p. */
@inline export function nibblesHi(p: usize): v128 {
  return v128.and(i16x8.shr_u(v128.load(p, 2), 4), i8x16.splat(0x0f));
}

/** Σ (n − 8)·q over the Q4_0 block at p (see planesSum). */
@inline function planesBlockSum<D>(p: usize, h: usize, l: usize, c: usize): v128 {
  return planesSum<D>(nibblesLo(p), nibblesHi(p), h, l, c);
}

/** One token, one Q4_0 row: two blocks a step on two accumulators (see int16RowTimes1). */
@inline export function planesRowTimes1<D>(wr: usize, blocks: i32, act: usize, K: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let p = wr;
  let h = act + actHeaderBytes(<usize>blocks) + (<usize>K << 1);
  let l = h + <usize>K;
  let s = act + (<usize>blocks << 4);
  let c = act;
  let b = 0;
  for (; b + 2 <= blocks; b += 2) {
    a0 = scaleInto(a0, planesBlockSum<D>(p, h, l, c), p, s);
    a1 = scaleInto(a1, planesBlockSum<D>(p + 18, h + 32, l + 32, c + 16), p + 18, s + 4);
    p += 36;
    h += 64;
    l += 64;
    s += 8;
    c += 32;
  }
  if (b < blocks) a0 = scaleInto(a0, planesBlockSum<D>(p, h, l, c), p, s);
  return hsum(f32x4.add(a0, a1));
}
