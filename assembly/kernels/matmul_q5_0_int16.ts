// Q5_0 weights against int16-quantized activations (act_quant.ts), the
// integer path of CpuBackendOptions.activations = 'int16'. Q5_0 is what
// llama.cpp's Q4_K / Q4_K_M presets write for tensors whose rows are not a
// multiple of 256 — DeepSeek-V2-Lite's expert ffn_down (K = 1408) — so a
// Q4_K_M file spends a fifth of its decode here.
//
// Per 32-value block: v = nibble | 16·(5th bit) in 0..31, widened to i16 and
// dotted with the activation block's q (i32x4.dot_i16x8_s); the −16 offset
// comes from the block's C vector (C = −8·Σq, so −16·Σq = 2·C); only the i32
// sum is converted and scaled by d·s. |Σ v·q| ≤ 32 · 31 · 16383 < 2^24 and
// |2·C| ≤ 16 · 32 · 16383 < 2^23: exact in i32, and exactly converted.
//
// Even blocks go to one accumulator and odd blocks to another, hsum(even +
// odd) at the end, and every T runs this same row arithmetic (only the
// activation addresses depend on T), so a token's output bits do not depend
// on its batch (matmul_int16_tiles.ts "Batch invariance").
import { actHeaderBytes } from './act_quant';
import { highNibbles, lowNibbles } from './block_dot';
import { fence } from './fence';
import { hsum, loadScale } from './half';
import { madd } from './simd';

const BLOCK_BYTES: usize = 22;
const TILE_BYTES: usize = 64 << 10;

/** 16 where lane j of the spread qh byte has bit j mod 8 set, else 0. */
@inline function bitsAsSixteen(spread: v128): v128 {
  const bit = v128.and(spread, i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128));
  return v128.andnot(i8x16.splat(0x10), i8x16.eq(bit, i8x16.splat(0)));
}

/** Σ (v − 16)·q over the Q5_0 block at p, q its activation block, c its C vector: i32x4 partial sums. */
@inline function blockSum(p: usize, q: usize, c: usize): v128 {
  // qh's bytes b0..b3 spread over lanes by interleaving shuffles (punpck on
  // x64, no mask constant to rebuild in the loop): [b0×8, b1×8] for elements
  // 0..15, [b2×8, b3×8] for 16..31; then lane j keeps its bit j mod 8.
  const b = v128.load32_zero(p, 2);
  const b2 = i8x16.shuffle(b, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); // b0 b0 b1 b1 b2 b2 b3 b3 …
  const b4 = i8x16.shuffle(b2, b2, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23); // b0×4 b1×4 b2×4 b3×4
  const spreadLo = i8x16.shuffle(b4, b4, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const spreadHi = i8x16.shuffle(b4, b4, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  const nibbles = v128.load(p, 6);
  const lo = v128.or(lowNibbles(nibbles), bitsAsSixteen(spreadLo)); // elements 0..15 as u8, 0..31
  const hi = v128.or(highNibbles(nibbles), bitsAsSixteen(spreadHi)); // elements 16..31
  const sum = i32x4.add(
    i32x4.add(
      i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(lo), v128.load(q)),
      i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(lo), v128.load(q, 16))),
    i32x4.add(
      i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(hi), v128.load(q, 32)),
      i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(hi), v128.load(q, 48))),
  );
  return i32x4.add(sum, i32x4.shl(v128.load(c), 1));
}

/**
 * Token t of T through one row (`blocks` blocks at wr): one block per
 * iteration, the two accumulators swapping roles (a two-block body spills on
 * x64's 16 vector registers); each block's sum fenced before the next
 * block's loads (fence.ts). d through loadScale: Q5_0 scales can be
 * subnormal halves, which loadHalf would multiply (an x86 microcode assist).
 */
@inline function rowTimes(wr: usize, blocks: i32, xq: usize, T: i32, t: i32): f32 {
  const n = <usize>blocks * <usize>T;
  const qStep = <usize>T << 6, sStep = <usize>T << 2, cStep = <usize>T << 4;
  let q = xq + actHeaderBytes(n) + (<usize>t << 6);
  let s = xq + (n << 4) + (<usize>t << 2);
  let c = xq + (<usize>t << 4);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let p = wr;
  const end = wr + <usize>blocks * BLOCK_BYTES;
  while (p < end) {
    const sum = fence(blockSum(p, q, c));
    const next = madd(f32x4.convert_i32x4_s(sum), f32x4.splat(loadScale(p) * load<f32>(s)), a0);
    a0 = a1;
    a1 = next;
    p += BLOCK_BYTES;
    q += qStep;
    s += sStep;
    c += cStep;
  }
  return hsum(f32x4.add(a0, a1));
}

/**
 * out[t·outStride + n] = Σ_b s_tb · d_nb · Σ_i (v_nbi − 16) · q_tbi for Q5_0
 * weights and xq from quantize_act_int16; K a multiple of 32. T > 1: rows in
 * tiles of ~64 KiB (in L2 while every token passes over them), so the
 * weights leave memory once per call. scratch: unused.
 */
export function matmul_q5_0_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * BLOCK_BYTES;
  if (T == 1) {
    for (let n = 0; n < N; n++) store<f32>(out + (<usize>n << 2), rowTimes(w + <usize>n * rowBytes, blocks, xq, 1, 0));
    return;
  }
  const os = <usize>outStride << 2;
  const tileRows = max<i32>(1, <i32>(TILE_BYTES / max<usize>(rowBytes, 1)));
  for (let n0 = 0; n0 < N; n0 += tileRows) {
    const n1 = min(N, n0 + tileRows);
    for (let t = 0; t < T; t++) {
      const o = out + <usize>t * os;
      for (let n = n0; n < n1; n++) store<f32>(o + (<usize>n << 2), rowTimes(w + <usize>n * rowBytes, blocks, xq, T, t));
    }
  }
}
