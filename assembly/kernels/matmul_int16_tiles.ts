// The int16-activation matmul exports (CpuBackendOptions.activations =
// 'int16') and the choice of pass by T: decode (T = 1) streams every row once
// (matmul_int16.ts; Q4_0 in the relaxed build on byte planes,
// matmul_int16_planes.ts); from tokenLoopMinT tokens the two-row token loop
// (matmul_int16_token_loop.ts, with the instruction counts that shaped it);
// between them the register passes below.
//
// Batch invariance: a token's outputs are the same bits whatever T is (see
// matmul_int16_token_loop.ts); every pass does the decode kernel's arithmetic
// per token.
import { actHeaderBytes } from './act_quant';
import { fence } from './fence';
import { subBlockDot } from './kquant_int16_rows';
import { hsum, loadHalf } from './half';
import { blockSumI16, int16RowTimes1 } from './matmul_int16';
import { nibblesHi, nibblesLo, planesRowTimes1, planesSum } from './matmul_int16_planes';
import { planes, twoRowsTimesT, WIDE_BYTES } from './matmul_int16_token_loop';
import { blockBytes } from './quant_blocks';
import { madd } from './simd';

/**
 * Σ w·q [+ C] of token entry e's block against the weight block held in
 * w0..w3 (widened i16, or for planes<Q>() the nibbles in w0, w1), with xq's
 * n = B·T entries: the lanes the decode kernel sums for the same block.
 */
@inline function tokenSum<Q, D>(w0: v128, w1: v128, w2: v128, w3: v128, xq: usize, n: usize, e: usize): v128 {
  const qBase = xq + actHeaderBytes(n);
  const c = xq + (e << 4);
  if (planes<Q>()) {
    const h = qBase + (n << 6) + (e << 5);
    return planesSum<D>(w0, w1, h, h + (n << 5), c);
  }
  const sum = subBlockDot(w0, w1, w2, w3, qBase + (e << 6));
  return isSigned<Q>() ? sum : i32x4.add(sum, v128.load(c));
}

// Below 4 or 6 tokens the token loop's per-call and per-block overheads (zeroing,
// widening through memory) are not amortized: one row meets G = 4, 2 or 1
// tokens (t0 .. t0 + G − 1 of T) in registers, weights widened in registers
// once per block for the G of them. Each token has two accumulators, x for the
// block being read and y for its neighbour, swapped after every block (so one
// holds the even blocks and the other the odd ones, as in decode; the final
// x + y is the same sum whichever holds which). The three repeat one preamble
// on purpose (a helper cannot return the four widened vectors). Each token's
// block sum is fenced (fence.ts) so V8 computes it before the next token's
// activation loads instead of loading all G tokens' first: T = 2..5
// measured 1.08–1.27× (Q8_0) and up to 1.11× (Q4_0), A/B in one process. The
// decode kernel is left unfenced: there it measured 0.92×.

/** Four tokens t0..t0+3 of T through one row. */
@inline function rowTimes4<Q, D>(wr: usize, blocks: i32, xq: usize, T: i32, t0: i32, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  const n = <usize>blocks * <usize>T;
  const sBase = xq + (n << 4);
  let x0 = f32x4.splat(0), x1 = f32x4.splat(0), x2 = f32x4.splat(0), x3 = f32x4.splat(0);
  let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0), y3 = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = wr + <usize>b * bb;
    let w0: v128, w1: v128, w2: v128, w3: v128;
    if (planes<Q>()) {
      w0 = nibblesLo(p); w1 = nibblesHi(p); w2 = w0; w3 = w1;
    } else if (isSigned<Q>()) {
      const lo = v128.load(p, 2), hi = v128.load(p, 18);
      w0 = i16x8.extend_low_i8x16_s(lo); w1 = i16x8.extend_high_i8x16_s(lo);
      w2 = i16x8.extend_low_i8x16_s(hi); w3 = i16x8.extend_high_i8x16_s(hi);
    } else {
      const raw = v128.load(p, 2);
      const nl = v128.and(raw, i8x16.splat(0x0f)), nh = v128.and(i16x8.shr_u(raw, 4), i8x16.splat(0x0f));
      w0 = i16x8.extend_low_i8x16_u(nl); w1 = i16x8.extend_high_i8x16_u(nl);
      w2 = i16x8.extend_low_i8x16_u(nh); w3 = i16x8.extend_high_i8x16_u(nh);
    }
    const d = f32x4.splat(loadHalf(p));
    const e = <usize>b * <usize>T + <usize>t0;
    const s = sBase + (e << 2);
    const n0 = madd(f32x4.convert_i32x4_s(fence(tokenSum<Q, D>(w0, w1, w2, w3, xq, n, e))), f32x4.mul(d, v128.load32_splat(s)), x0);
    const n1 = madd(f32x4.convert_i32x4_s(fence(tokenSum<Q, D>(w0, w1, w2, w3, xq, n, e + 1))), f32x4.mul(d, v128.load32_splat(s + 4)), x1);
    const n2 = madd(f32x4.convert_i32x4_s(fence(tokenSum<Q, D>(w0, w1, w2, w3, xq, n, e + 2))), f32x4.mul(d, v128.load32_splat(s + 8)), x2);
    const n3 = madd(f32x4.convert_i32x4_s(fence(tokenSum<Q, D>(w0, w1, w2, w3, xq, n, e + 3))), f32x4.mul(d, v128.load32_splat(s + 12)), x3);
    x0 = y0; x1 = y1; x2 = y2; x3 = y3;
    y0 = n0; y1 = n1; y2 = n2; y3 = n3;
  }
  store<f32>(o0, hsum(f32x4.add(x0, y0)));
  store<f32>(o0 + os, hsum(f32x4.add(x1, y1)));
  store<f32>(o0 + 2 * os, hsum(f32x4.add(x2, y2)));
  store<f32>(o0 + 3 * os, hsum(f32x4.add(x3, y3)));
}

/** Two tokens t0, t0+1 of T through one row. */
@inline function rowTimes2<Q, D>(wr: usize, blocks: i32, xq: usize, T: i32, t0: i32, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  const n = <usize>blocks * <usize>T;
  const sBase = xq + (n << 4);
  let x0 = f32x4.splat(0), x1 = f32x4.splat(0), y0 = f32x4.splat(0), y1 = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = wr + <usize>b * bb;
    let w0: v128, w1: v128, w2: v128, w3: v128;
    if (planes<Q>()) {
      w0 = nibblesLo(p); w1 = nibblesHi(p); w2 = w0; w3 = w1;
    } else if (isSigned<Q>()) {
      const lo = v128.load(p, 2), hi = v128.load(p, 18);
      w0 = i16x8.extend_low_i8x16_s(lo); w1 = i16x8.extend_high_i8x16_s(lo);
      w2 = i16x8.extend_low_i8x16_s(hi); w3 = i16x8.extend_high_i8x16_s(hi);
    } else {
      const raw = v128.load(p, 2);
      const nl = v128.and(raw, i8x16.splat(0x0f)), nh = v128.and(i16x8.shr_u(raw, 4), i8x16.splat(0x0f));
      w0 = i16x8.extend_low_i8x16_u(nl); w1 = i16x8.extend_high_i8x16_u(nl);
      w2 = i16x8.extend_low_i8x16_u(nh); w3 = i16x8.extend_high_i8x16_u(nh);
    }
    const d = f32x4.splat(loadHalf(p));
    const e = <usize>b * <usize>T + <usize>t0;
    const s = sBase + (e << 2);
    const n0 = madd(f32x4.convert_i32x4_s(fence(tokenSum<Q, D>(w0, w1, w2, w3, xq, n, e))), f32x4.mul(d, v128.load32_splat(s)), x0);
    const n1 = madd(f32x4.convert_i32x4_s(fence(tokenSum<Q, D>(w0, w1, w2, w3, xq, n, e + 1))), f32x4.mul(d, v128.load32_splat(s + 4)), x1);
    x0 = y0; x1 = y1;
    y0 = n0; y1 = n1;
  }
  store<f32>(o0, hsum(f32x4.add(x0, y0)));
  store<f32>(o0 + os, hsum(f32x4.add(x1, y1)));
}

/** Token t0 of T through one row (the odd one left). */
@inline function rowTimes1Of<Q, D>(wr: usize, blocks: i32, xq: usize, T: i32, t0: i32, o0: usize): void {
  const bb = blockBytes<Q>();
  const n = <usize>blocks * <usize>T;
  const sBase = xq + (n << 4);
  let x = f32x4.splat(0), y = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = wr + <usize>b * bb;
    const e = <usize>b * <usize>T + <usize>t0;
    let sum: v128;
    if (planes<Q>()) sum = tokenSum<Q, D>(nibblesLo(p), nibblesHi(p), v128.splat<i32>(0), v128.splat<i32>(0), xq, n, e);
    else sum = blockSumI16<Q>(p, xq + actHeaderBytes(n) + (e << 6), xq + (e << 4));
    const next = madd(f32x4.convert_i32x4_s(sum), f32x4.splat(loadHalf(p) * load<f32>(sBase + (e << 2))), x);
    x = y;
    y = next;
  }
  store<f32>(o0, hsum(f32x4.add(x, y)));
}

/** T below tokenLoopMinT: row tiles of ~128 KiB (in L2 while the token groups pass over them), groups of 4, 2, 1. */
@inline function smallBatch<Q, D>(w: usize, xq: usize, out: usize, os: usize, N: i32, blocks: i32, T: i32): void {
  const rowBytes = <usize>blocks * blockBytes<Q>();
  const tileRows = max<i32>(1, <i32>(TILE_BYTES / max<usize>(rowBytes, 1)));
  for (let n0 = 0; n0 < N; n0 += tileRows) {
    const n1 = min(N, n0 + tileRows);
    let t = 0;
    for (; t + 4 <= T; t += 4) for (let n = n0; n < n1; n++) rowTimes4<Q, D>(w + <usize>n * rowBytes, blocks, xq, T, t, out + <usize>t * os + (<usize>n << 2), os);
    for (; t + 2 <= T; t += 2) for (let n = n0; n < n1; n++) rowTimes2<Q, D>(w + <usize>n * rowBytes, blocks, xq, T, t, out + <usize>t * os + (<usize>n << 2), os);
    for (; t < T; t++) for (let n = n0; n < n1; n++) rowTimes1Of<Q, D>(w + <usize>n * rowBytes, blocks, xq, T, t, out + <usize>t * os + (<usize>n << 2));
  }
}

const TILE_BYTES: usize = 128 << 10;
/** From this many tokens the token loop (twoRowsTimesT) beats the register passes (measured: Q8_0 from 6 to 7, Q4_0 from 3 to 4). */
@inline function tokenLoopMinT<Q>(): i32 {
  return isSigned<Q>() ? 6 : 4;
}

/** One token through one row: the decode kernel of the build (D: the Q4_0 relaxed dot form, see matmul_int16_planes.ts). */
@inline function rowTimes1<Q, D>(wr: usize, blocks: i32, act: usize, K: i32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD && !isSigned<Q>()) return planesRowTimes1<D>(wr, blocks, act, K);
  return int16RowTimes1<Q>(wr, blocks, act);
}

@inline function matmulInt16<Q, D>(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * blockBytes<Q>();
  const os = <usize>outStride << 2;
  if (T == 1) {
    // Every row once, the loop kept at depth 1: V8 unrolls small inner loops more
    // the deeper they nest, and an unrolled block loop spills (measured 20 % slower).
    for (let n = 0; n < N; n++) store<f32>(out + (<usize>n << 2), rowTimes1<Q, D>(w + <usize>n * rowBytes, blocks, xq, K));
    return;
  }
  if (T < tokenLoopMinT<Q>()) {
    smallBatch<Q, D>(w, xq, out, os, N, blocks, T);
    return;
  }
  for (let n = 0; n < N; n += 2) {
    const m = min(n + 1, N - 1);
    twoRowsTimesT<Q, D>(w + <usize>n * rowBytes, w + <usize>m * rowBytes, blocks, xq, T, scratch,
      out + (<usize>n << 2), out + (<usize>m << 2), os);
  }
}

/**
 * Bytes of scratch an int16 matmul of T tokens needs (none for T = 1): the
 * most any kernel of the family takes — the Q8_0/Q4_0 token loop's two
 * widened blocks and 64 bytes a token (WIDE_BYTES + 64·T), the K-quant token
 * loop's 96 a token (four sub-block sums and two accumulators, kRowTimesT).
 */
export function int16_scratch_bytes(T: i32): i32 {
  return T > 1 ? <i32>WIDE_BYTES + T * 96 : 0;
}

/**
 * out[t·outStride + n] = Σ_b d_nb · s_tb · Σ_i q_nbi · xq_tbi for Q8_0 weights and
 * xq from quantize_act_int16; scratch: int16_scratch_bytes(T) bytes, one per concurrent call.
 */
export function matmul_q8_0_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulInt16<i8, i16>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q8_0_int16, for Q4_0 weights (relaxed build: i16x8 byte dot products in decode). */
export function matmul_q4_0_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulInt16<u8, i16>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q4_0_int16 with i32x4.relaxed_dot_i8x16_i7x16_add_s in decode, where the self-test passes it (the plain build: the same kernel). */
export function matmul_q4_0_int16_dotadd(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulInt16<u8, i32>(w, xq, out, outStride, N, K, T, scratch);
}
