// Q8_0 / Q4_0 weights against int16-quantized activations (act_quant.ts):
// each weight block meets an activation block in integer dot products, and
// only the block's i32 sum is converted to f32 and scaled once by d·s.
// Weights are widened to i16 (Q8_0 bytes sign-extended; Q4_0 nibbles used as
// they are, 0..15, the −8 offset coming from the activation's C vector) and
// multiplied by i32x4.dot_i16x8_s. The one-token (decode) pass lives here; the
// relaxed-SIMD Q4_0 decode on byte planes is matmul_int16_planes.ts, and the
// passes over many tokens are matmul_int16_tiles.ts and matmul_int16_token_loop.ts.
import { hsum, loadHalf } from './half';
import { actHeaderBytes } from './act_quant';
import { blockBytes, quantBytesI16 } from './quant_blocks';
import { madd } from './simd';

/** Weight quants 8j..8j+7 of the block at p as i16x8 (Q4_0: raw nibbles 0..15; see quant_blocks.ts for the byte order). */
@inline function weightsI16<Q>(p: usize, j: i32): v128 {
  if (isSigned<Q>()) return quantBytesI16<i8>(p, j);
  const bytes = quantBytesI16<u8>(p, j & 1);
  return j >= 2 ? i16x8.shr_u(bytes, 4) : v128.and(bytes, i16x8.splat(0x0f));
}

/** Σ w·q of one block as i32x4 partial sums (Q4_0: plus the C vector, so the sum is of (nibble − 8)·q). */
@inline export function blockSumI16<Q>(p: usize, q: usize, c: usize): v128 {
  const sum = i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(weightsI16<Q>(p, 0), v128.load(q)), i32x4.dot_i16x8_s(weightsI16<Q>(p, 1), v128.load(q, 16))),
    i32x4.add(i32x4.dot_i16x8_s(weightsI16<Q>(p, 2), v128.load(q, 32)), i32x4.dot_i16x8_s(weightsI16<Q>(p, 3), v128.load(q, 48))),
  );
  return isSigned<Q>() ? sum : i32x4.add(sum, v128.load(c));
}

/** acc + f32(sum) · d·s: d the weight block's half at p, s the activation block's f32. */
@inline export function scaleInto(acc: v128, sum: v128, p: usize, s: usize): v128 {
  return madd(f32x4.convert_i32x4_s(sum), f32x4.splat(loadHalf(p) * load<f32>(s)), acc);
}

/**
 * One token (decode): every weight is read once, so the instruction count per
 * block is the budget (Q8_0 ≈ 24 on x64: 4 widening loads, 4 activation
 * loads, 4 i32x4.dot, 3 adds, d·s in scalar, convert, multiply-add). Two
 * blocks a step on two accumulators; written as one expression chain per block
 * so V8 schedules each block's loads next to their uses instead of hoisting a
 * wider unroll's loads into spills (4 blocks a step measured slower).
 */
@inline export function int16RowTimes1<Q>(wr: usize, blocks: i32, act: usize): f32 {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let p = wr;
  let q = act + actHeaderBytes(<usize>blocks);
  let s = act + (<usize>blocks << 4);
  let c = act;
  let b = 0;
  for (; b + 2 <= blocks; b += 2) {
    a0 = scaleInto(a0, blockSumI16<Q>(p, q, c), p, s);
    a1 = scaleInto(a1, blockSumI16<Q>(p + bb, q + 64, c + 16), p + bb, s + 4);
    p += 2 * bb;
    q += 128;
    s += 8;
    c += 32;
  }
  if (b < blocks) a0 = scaleInto(a0, blockSumI16<Q>(p, q, c), p, s);
  return hsum(f32x4.add(a0, a1));
}
