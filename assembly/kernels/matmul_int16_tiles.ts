// The int16-activation matmul exports (CpuBackendOptions.activations =
// 'int16'): decode (T = 1) streams every row once (matmul_int16.ts; Q4_0 in the
// relaxed build on byte planes, matmul_int16_planes.ts); prefill and batched
// decode (T > 1) tile the weight rows (~128 KiB) so a tile stays in L2 while
// every token group passes over it and the weights leave memory once per call;
// within a tile, 8-, 4-, 2-token passes reuse each widened block, and single
// tokens take the decode kernel.
import { actHeaderBytes, act_int16_token_bytes } from './act_quant';
import { loadHalf, hsum } from './half';
import { int16RowTimes1 } from './matmul_int16';
import { planesRowTimes1 } from './matmul_int16_planes';
import { blockBytes } from './quant_blocks';
import { madd } from './simd';

const TILE_BYTES: usize = 128 << 10;

/** One token of a prefill pass: acc + f32(Σ w·q [+ C]) · d·s, the block's weights already widened to w0..w3. */
@inline function tokenInto<Q>(acc: v128, w0: v128, w1: v128, w2: v128, w3: v128, q: usize, s: usize, c: usize, d: v128): v128 {
  let sum = i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(q)), i32x4.dot_i16x8_s(w1, v128.load(q, 16))),
    i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(q, 32)), i32x4.dot_i16x8_s(w3, v128.load(q, 48))),
  );
  if (!isSigned<Q>()) sum = i32x4.add(sum, v128.load(c));
  return madd(f32x4.convert_i32x4_s(sum), f32x4.mul(d, v128.load32_splat(s)), acc);
}

// Each pass widens a block's 32 weights once into w0..w3 (Q8_0: sign-extended
// bytes; Q4_0: nibbles 0..15, low then high) and meets 8, 4 or 2 tokens with them.
// The three passes repeat that preamble on purpose: a shared helper cannot
// return four vectors, and an out-parameter in memory would cost the reuse.

/** 8 tokens, ts bytes apart in xq; outputs os bytes apart. */
@inline function int16RowTimes8<Q>(wr: usize, blocks: i32, act: usize, ts: usize, K: i32, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  const qb = act + actHeaderBytes(K);
  const sb = act + (<usize>blocks << 4);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = wr + <usize>b * bb;
    let w0: v128, w1: v128, w2: v128, w3: v128;
    if (isSigned<Q>()) {
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
    const q = qb + (<usize>b << 6), s = sb + (<usize>b << 2), c = act + (<usize>b << 4);
    a0 = tokenInto<Q>(a0, w0, w1, w2, w3, q, s, c, d);
    a1 = tokenInto<Q>(a1, w0, w1, w2, w3, q + ts, s + ts, c + ts, d);
    a2 = tokenInto<Q>(a2, w0, w1, w2, w3, q + 2 * ts, s + 2 * ts, c + 2 * ts, d);
    a3 = tokenInto<Q>(a3, w0, w1, w2, w3, q + 3 * ts, s + 3 * ts, c + 3 * ts, d);
    a4 = tokenInto<Q>(a4, w0, w1, w2, w3, q + 4 * ts, s + 4 * ts, c + 4 * ts, d);
    a5 = tokenInto<Q>(a5, w0, w1, w2, w3, q + 5 * ts, s + 5 * ts, c + 5 * ts, d);
    a6 = tokenInto<Q>(a6, w0, w1, w2, w3, q + 6 * ts, s + 6 * ts, c + 6 * ts, d);
    a7 = tokenInto<Q>(a7, w0, w1, w2, w3, q + 7 * ts, s + 7 * ts, c + 7 * ts, d);
  }
  store<f32>(o0, hsum(a0));
  store<f32>(o0 + os, hsum(a1));
  store<f32>(o0 + 2 * os, hsum(a2));
  store<f32>(o0 + 3 * os, hsum(a3));
  store<f32>(o0 + 4 * os, hsum(a4));
  store<f32>(o0 + 5 * os, hsum(a5));
  store<f32>(o0 + 6 * os, hsum(a6));
  store<f32>(o0 + 7 * os, hsum(a7));
}

/** 4 tokens. */
@inline function int16RowTimes4<Q>(wr: usize, blocks: i32, act: usize, ts: usize, K: i32, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  const qb = act + actHeaderBytes(K);
  const sb = act + (<usize>blocks << 4);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = wr + <usize>b * bb;
    let w0: v128, w1: v128, w2: v128, w3: v128;
    if (isSigned<Q>()) {
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
    const q = qb + (<usize>b << 6), s = sb + (<usize>b << 2), c = act + (<usize>b << 4);
    a0 = tokenInto<Q>(a0, w0, w1, w2, w3, q, s, c, d);
    a1 = tokenInto<Q>(a1, w0, w1, w2, w3, q + ts, s + ts, c + ts, d);
    a2 = tokenInto<Q>(a2, w0, w1, w2, w3, q + 2 * ts, s + 2 * ts, c + 2 * ts, d);
    a3 = tokenInto<Q>(a3, w0, w1, w2, w3, q + 3 * ts, s + 3 * ts, c + 3 * ts, d);
  }
  store<f32>(o0, hsum(a0));
  store<f32>(o0 + os, hsum(a1));
  store<f32>(o0 + 2 * os, hsum(a2));
  store<f32>(o0 + 3 * os, hsum(a3));
}

/** 2 tokens (batched decode of two sequences, prefill tails). */
@inline function int16RowTimes2<Q>(wr: usize, blocks: i32, act: usize, ts: usize, K: i32, o0: usize, os: usize): void {
  const bb = blockBytes<Q>();
  const qb = act + actHeaderBytes(K);
  const sb = act + (<usize>blocks << 4);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  for (let b = 0; b < blocks; b++) {
    const p = wr + <usize>b * bb;
    let w0: v128, w1: v128, w2: v128, w3: v128;
    if (isSigned<Q>()) {
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
    const q = qb + (<usize>b << 6), s = sb + (<usize>b << 2), c = act + (<usize>b << 4);
    a0 = tokenInto<Q>(a0, w0, w1, w2, w3, q, s, c, d);
    a1 = tokenInto<Q>(a1, w0, w1, w2, w3, q + ts, s + ts, c + ts, d);
  }
  store<f32>(o0, hsum(a0));
  store<f32>(o0 + os, hsum(a1));
}

/** One token through one row: the decode kernel of the build (D: the Q4_0 relaxed dot form, see matmul_int16_planes.ts). */
@inline function rowTimes1<Q, D>(wr: usize, blocks: i32, act: usize, K: i32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD && !isSigned<Q>()) return planesRowTimes1<D>(wr, blocks, act, K);
  return int16RowTimes1<Q>(wr, blocks, act, K);
}

@inline function matmulInt16<Q, D>(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * blockBytes<Q>();
  const ts = <usize>act_int16_token_bytes(K);
  const os = <usize>outStride << 2;
  if (T == 1) {
    // Every row once, the loop kept at depth 1: V8 unrolls small inner loops more
    // the deeper they nest, and an unrolled block loop spills (measured 20 % slower).
    for (let n = 0; n < N; n++) store<f32>(out + (<usize>n << 2), rowTimes1<Q, D>(w + <usize>n * rowBytes, blocks, xq, K));
    return;
  }
  const tileRows = max<i32>(1, <i32>(TILE_BYTES / max<usize>(rowBytes, 1)));
  for (let n0 = 0; n0 < N; n0 += tileRows) {
    const n1 = min(N, n0 + tileRows);
    let t = 0;
    for (; t + 8 <= T; t += 8) {
      for (let n = n0; n < n1; n++) int16RowTimes8<Q>(w + <usize>n * rowBytes, blocks, xq + <usize>t * ts, ts, K, out + <usize>t * os + (<usize>n << 2), os);
    }
    for (; t + 4 <= T; t += 4) {
      for (let n = n0; n < n1; n++) int16RowTimes4<Q>(w + <usize>n * rowBytes, blocks, xq + <usize>t * ts, ts, K, out + <usize>t * os + (<usize>n << 2), os);
    }
    for (; t + 2 <= T; t += 2) {
      for (let n = n0; n < n1; n++) int16RowTimes2<Q>(w + <usize>n * rowBytes, blocks, xq + <usize>t * ts, ts, K, out + <usize>t * os + (<usize>n << 2), os);
    }
    for (; t < T; t++) {
      for (let n = n0; n < n1; n++) store<f32>(out + <usize>t * os + (<usize>n << 2), rowTimes1<Q, D>(w + <usize>n * rowBytes, blocks, xq + <usize>t * ts, K));
    }
  }
}

/** out[t·outStride + n] = Σ_b d_nb · s_tb · Σ_i q_nbi · xq_tbi for Q8_0 weights and xq from quantize_act_int16. */
export function matmul_q8_0_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  matmulInt16<i8, i16>(w, xq, out, outStride, N, K, T);
}

/** As matmul_q8_0_int16, for Q4_0 weights (relaxed build: i16x8 byte dot products in decode). */
export function matmul_q4_0_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  matmulInt16<u8, i16>(w, xq, out, outStride, N, K, T);
}

/** As matmul_q4_0_int16 with i32x4.relaxed_dot_i8x16_i7x16_add_s in decode, where the self-test passes it (the plain build: the same kernel). */
export function matmul_q4_0_int16_dotadd(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32): void {
  matmulInt16<u8, i32>(w, xq, out, outStride, N, K, T);
}
