// The int16-activation matmuls of the block types other than Q8_0/Q4_0
// (those: matmul_int16_tiles.ts): Q4_K, Q5_K, Q6_K (row arithmetic in
// kquant_int16_rows.ts) and Q5_0, Q5_1, Q4_1, IQ4_NL, IQ4_XS
// (legacy_int16_rows.ts), the integer path of CpuBackendOptions.activations = 'int16'.
//
// Decode (T = 1) streams every row once. From tokenLoopMinT tokens each row's
// weights are widened once and meet every token (kRowTimesT, q6kRowTimesT, the
// integer sums and the accumulators in scratch). Below it rows are taken in
// tiles of ~64 KiB (in L2 while the tokens pass over them) and each token
// meets each row with the decode arithmetic: the nibbles are unpacked again per
// token, but the weights leave memory once per call. Batch invariance
// (matmul_int16_tiles.ts) holds by construction: every pass does the row
// function's integer sums and its float operations in its order, only the
// activation addresses depend on T.
import { kRowTimesT, q4kRowInt16, q5kRowInt16, q6kRowInt16, q6kRowTimesT } from './kquant_int16_rows';
import { legacyRowBytes, legacyRowInt16, legacyRowTimesT, legacyTokenLoopMinT } from './legacy_int16_rows';

const TILE_BYTES: usize = 64 << 10;

// The family as a compile-time type: i8 = the K-quants (Q = u8 Q4_K, u16 Q5_K,
// i8 Q6_K), u8 = the 32-value formats (legacy_int16_rows.ts's F tags).

/** One token through one row of K values. */
@inline function rowInt16<Fam, Q>(wr: usize, K: i32, xq: usize, T: i32, t: i32): f32 {
  if (!isSigned<Fam>()) return legacyRowInt16<Q>(wr, K >> 5, xq, T, t);
  if (isSigned<Q>()) return q6kRowInt16(wr, K >> 8, xq, T, t);
  if (sizeof<Q>() == 2) return q5kRowInt16(wr, K >> 8, xq, T, t);
  return q4kRowInt16(wr, K >> 8, xq, T, t);
}

/** All T tokens through one row (the token loops; scratch: int16_scratch_bytes(T)). */
@inline function rowTimesT<Fam, Q>(wr: usize, K: i32, xq: usize, T: i32, scratch: usize, out: usize, os: usize): void {
  if (!isSigned<Fam>()) legacyRowTimesT<Q>(wr, K >> 5, xq, T, scratch, out, os);
  else if (isSigned<Q>()) q6kRowTimesT(wr, K >> 8, xq, T, scratch, out, os);
  else kRowTimesT(sizeof<Q>() == 2, wr, K >> 8, xq, T, scratch, out, os);
}

/** Bytes of a row of K values. */
@inline function rowBytes<Fam, Q>(K: i32): usize {
  if (!isSigned<Fam>()) return legacyRowBytes<Q>(K);
  return <usize>(K >> 8) * (isSigned<Q>() ? 210 : sizeof<Q>() == 2 ? 176 : 144);
}

/**
 * From this many tokens rows take the token loop rather than the tiles.
 * Measured against the tiles: Q4_K 0.78× at T = 2, 1.09× at 4, 1.4× at 16,
 * 2× at 64; Q6_K, whose widening costs more, 1.28× at 2, 1.49× at 3, 1.68× at
 * 4, 2.3× at 16, 2.9× at 64 (bench/kernel-builds-ab.ts); the 32-value
 * formats: legacyTokenLoopMinT.
 */
@inline function tokenLoopMinT<Fam, Q>(): i32 {
  if (!isSigned<Fam>()) return legacyTokenLoopMinT<Q>();
  return isSigned<Q>() ? 2 : 4;
}

@inline function matmulBlocksInt16<Fam, Q>(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  const rb = rowBytes<Fam, Q>(K);
  if (T == 1) {
    for (let n = 0; n < N; n++) store<f32>(out + (<usize>n << 2), rowInt16<Fam, Q>(w + <usize>n * rb, K, xq, 1, 0));
    return;
  }
  const os = <usize>outStride << 2;
  if (T >= tokenLoopMinT<Fam, Q>()) {
    for (let n = 0; n < N; n++) rowTimesT<Fam, Q>(w + <usize>n * rb, K, xq, T, scratch, out + (<usize>n << 2), os);
    return;
  }
  const tileRows = max<i32>(1, <i32>(TILE_BYTES / max<usize>(rb, 1)));
  for (let n0 = 0; n0 < N; n0 += tileRows) {
    const n1 = min(N, n0 + tileRows);
    for (let t = 0; t < T; t++) {
      const o = out + <usize>t * os;
      for (let n = n0; n < n1; n++) store<f32>(o + (<usize>n << 2), rowInt16<Fam, Q>(w + <usize>n * rb, K, xq, T, t));
    }
  }
}

/**
 * out[t·outStride + n] = Σ_b s_tb · (Σ_i w_nbi · q_tbi) for Q4_K weights (w = d·sc·n − dmin·m)
 * and xq from quantize_act_int16; K a multiple of 256. scratch: int16_scratch_bytes(T) bytes, one per concurrent call.
 */
export function matmul_q4_k_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<i8, u8>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q4_k_int16, for Q5_K weights (w = d·sc·(n + 16·h) − dmin·m, h the 5th bit). */
export function matmul_q5_k_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<i8, u16>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q4_k_int16, for Q6_K weights (w = d·sc·(q6 − 32), a scale per 16). */
export function matmul_q6_k_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<i8, i8>(w, xq, out, outStride, N, K, T, scratch);
}

/**
 * out[t·outStride + n] = Σ_b s_tb · d_nb · Σ_i (v_nbi − 16) · q_tbi for Q5_0
 * weights and xq from quantize_act_int16; K a multiple of 32. scratch:
 * int16_scratch_bytes(T) bytes, one per concurrent call.
 */
export function matmul_q5_0_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<u8, i8>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q5_0_int16 for Q5_1 weights: Σ_b s_tb · (d_nb · Σ_i v_nbi · q_tbi + m_nb · Σ_i q_tbi). */
export function matmul_q5_1_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<u8, u16>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q5_1_int16 for Q4_1 weights (v the nibble alone). */
export function matmul_q4_1_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<u8, u8>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q5_0_int16 for IQ4_NL weights: Σ_b s_tb · d_nb · Σ_i v[n_nbi] · q_tbi. */
export function matmul_iq4_nl_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<u8, i16>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_iq4_nl_int16 for IQ4_XS weights (K a multiple of 256), each 32 values scaled by d·(ls − 32). */
export function matmul_iq4_xs_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulBlocksInt16<u8, u32>(w, xq, out, outStride, N, K, T, scratch);
}
