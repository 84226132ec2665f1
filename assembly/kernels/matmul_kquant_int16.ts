// Q4_K, Q5_K and Q6_K weights against int16-quantized activations (act_quant.ts),
// the integer path of CpuBackendOptions.activations = 'int16'; the per-row
// arithmetic is kquant_int16_rows.ts.
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

const TILE_BYTES: usize = 64 << 10;
/**
 * From this many tokens rows take the token loop (kRowTimesT, q6kRowTimesT)
 * rather than the tiles. Measured against the tiles: Q4_K 0.78× at T = 2,
 * 1.09× at 4, 1.4× at 16, 2× at 64; Q6_K, whose widening costs more, 1.28× at
 * 2, 1.49× at 3, 1.68× at 4, 2.3× at 16, 2.9× at 64 (bench/kernel-builds-ab.ts).
 */
@inline function tokenLoopMinT<Q>(): i32 {
  return isSigned<Q>() ? 2 : 4;
}

/** One token through one row: Q = u8 for Q4_K, u16 for Q5_K, i8 for Q6_K. */
@inline function rowInt16<Q>(wr: usize, superBlocks: i32, xq: usize, T: i32, t: i32): f32 {
  if (isSigned<Q>()) return q6kRowInt16(wr, superBlocks, xq, T, t);
  if (sizeof<Q>() == 2) return q5kRowInt16(wr, superBlocks, xq, T, t);
  return q4kRowInt16(wr, superBlocks, xq, T, t);
}

/** Bytes of a super-block of Q. */
@inline function superBlockBytes<Q>(): usize {
  return isSigned<Q>() ? 210 : sizeof<Q>() == 2 ? 176 : 144;
}

@inline function matmulKquantInt16<Q>(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  const superBlocks = K >> 8;
  const rowBytes = <usize>superBlocks * superBlockBytes<Q>();
  if (T == 1) {
    for (let n = 0; n < N; n++) store<f32>(out + (<usize>n << 2), rowInt16<Q>(w + <usize>n * rowBytes, superBlocks, xq, 1, 0));
    return;
  }
  const os = <usize>outStride << 2;
  if (T >= tokenLoopMinT<Q>()) {
    // Each row's weights widened once for all T tokens (kRowTimesT, q6kRowTimesT).
    for (let n = 0; n < N; n++) {
      const wr = w + <usize>n * rowBytes, o = out + (<usize>n << 2);
      if (isSigned<Q>()) q6kRowTimesT(wr, superBlocks, xq, T, scratch, o, os);
      else kRowTimesT(sizeof<Q>() == 2, wr, superBlocks, xq, T, scratch, o, os);
    }
    return;
  }
  const tileRows = max<i32>(1, <i32>(TILE_BYTES / max<usize>(rowBytes, 1)));
  for (let n0 = 0; n0 < N; n0 += tileRows) {
    const n1 = min(N, n0 + tileRows);
    for (let t = 0; t < T; t++) {
      const o = out + <usize>t * os;
      for (let n = n0; n < n1; n++) store<f32>(o + (<usize>n << 2), rowInt16<Q>(w + <usize>n * rowBytes, superBlocks, xq, T, t));
    }
  }
}

/**
 * out[t·outStride + n] = Σ_b s_tb · (Σ_i w_nbi · q_tbi) for Q4_K weights (w = d·sc·n − dmin·m)
 * and xq from quantize_act_int16; K a multiple of 256. scratch: int16_scratch_bytes(T) bytes, one per concurrent call.
 */
export function matmul_q4_k_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulKquantInt16<u8>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q4_k_int16, for Q5_K weights (w = d·sc·(n + 16·h) − dmin·m, h the 5th bit). */
export function matmul_q5_k_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulKquantInt16<u16>(w, xq, out, outStride, N, K, T, scratch);
}

/** As matmul_q4_k_int16, for Q6_K weights (w = d·sc·(q6 − 32), a scale per 16). */
export function matmul_q6_k_int16(w: usize, xq: usize, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  matmulKquantInt16<i8>(w, xq, out, outStride, N, K, T, scratch);
}
