// The Q8_0 / Q4_0 matmuls with exact f32 activations, for ggml's block layout
// (f16 d, then 32 quants; see src/backend/cpu/kernel-exports.ts). Per token
// and row: each block's 8-quant groups (as f32) times the activations, the
// block's sum scaled by d once, even blocks into one accumulator and odd
// blocks into another, hsum(even + odd). Decode (T = 1) widens the quants
// straight from their loads (i8 → i16 → i32 → f32 in registers); batches
// (T > 1) convert each row's quants to f32 once into scratch and run the same
// arithmetic on them for every token, so a token's outputs are the same bits
// whatever T is (batch invariance, matmul_int16_tiles.ts).
import { hsum, loadHalf } from './half';
import { blockBytes, quantsI16x8 } from './quant_blocks';
import { madd } from './simd';

/**
 * Σ of quants 8j..8j+7 times the f32 activations at x, as f32x4: the quants
 * widened from the block at p (F = i32), or read from their f32 copy at qf
 * (F = f32, block-relative as the block's).
 */
@inline function dot8<Q, F>(p: usize, qf: usize, j: i32, x: usize): v128 {
  let lo: v128, hi: v128;
  if (isFloat<F>()) {
    lo = v128.load(qf + (<usize>j << 5));
    hi = v128.load(qf + (<usize>j << 5), 16);
  } else {
    const q = quantsI16x8<Q>(p, j);
    lo = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q));
    hi = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q));
  }
  return madd(hi, v128.load(x, 16), f32x4.mul(lo, v128.load(x)));
}

/** acc + d · Σ over the block at p (quants at qf for F = f32) of q·x (x at o). */
@inline function blockStep<Q, F>(acc: v128, p: usize, qf: usize, o: usize): v128 {
  const s = f32x4.add(
    f32x4.add(dot8<Q, F>(p, qf, 0, o), dot8<Q, F>(p, qf, 1, o + 32)),
    f32x4.add(dot8<Q, F>(p, qf, 2, o + 64), dot8<Q, F>(p, qf, 3, o + 96)),
  );
  return madd(s, f32x4.splat(loadHalf(p)), acc);
}

/** One row at wr (its quants as f32 at qf for F = f32) times one token at x0: two blocks a step on independent accumulators. */
@inline function rowTimes<Q, F>(wr: usize, qf: usize, blocks: i32, x0: usize): f32 {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let p = wr;
  let q = qf;
  let o = x0;
  let b = 0;
  for (; b + 2 <= blocks; b += 2) {
    a0 = blockStep<Q, F>(a0, p, q, o);
    a1 = blockStep<Q, F>(a1, p + bb, q + 128, o + 128);
    p += 2 * bb;
    q += 256;
    o += 256;
  }
  if (b < blocks) a0 = blockStep<Q, F>(a0, p, q, o);
  return hsum(f32x4.add(a0, a1));
}

/** One token (see i16RowTimes1 on the shape): the quants widened in registers. */
@inline export function f32RowTimes1<Q>(wr: usize, blocks: i32, x0: usize): f32 {
  return rowTimes<Q, i32>(wr, 0, blocks, x0);
}

/** The row's quants (no d) as exact f32 at dst, 32 per block: what f32RowTimes1 multiplies. */
@inline function quantsToF32<Q>(wr: usize, blocks: i32, dst: usize): void {
  const bb = blockBytes<Q>();
  for (let b = 0; b < blocks; b++) {
    const p = wr + <usize>b * bb;
    const d = dst + (<usize>b << 7);
    for (let j = 0; j < 4; j++) {
      const q = quantsI16x8<Q>(p, j);
      v128.store(d + (<usize>j << 5), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q)));
      v128.store(d + (<usize>j << 5), f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q)), 16);
    }
  }
}

/** T tokens: each row's quants converted once into scratch (K f32), then f32RowTimes1's arithmetic per token. */
@inline export function f32RowsTimesT<Q>(w: usize, x: usize, xStride: i32, out: usize, outStride: i32, N: i32, K: i32, T: i32, scratch: usize): void {
  const blocks = K >> 5;
  const rowBytes = <usize>blocks * blockBytes<Q>();
  const xs = <usize>xStride << 2;
  const os = <usize>outStride << 2;
  for (let n = 0; n < N; n++) {
    const wr = w + <usize>n * rowBytes;
    quantsToF32<Q>(wr, blocks, scratch);
    for (let t = 0; t < T; t++) store<f32>(out + <usize>t * os + (<usize>n << 2), rowTimes<Q, f32>(wr, scratch, blocks, x + <usize>t * xs));
  }
}
