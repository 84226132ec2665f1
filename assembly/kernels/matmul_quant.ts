// The one-token (decode) pass of the Q8_0 / Q4_0 matmuls with exact f32
// activations, for ggml's block layout (f16 d, then 32 quants; see
// src/backend/cpu/kernel-exports.ts). Each block's 8-quant groups are widened
// straight from their loads (i8 → i16 → i32 → f32 in registers) and the
// block's sum scaled by d once. Prefill decodes rows instead
// (matmul_decoded_rows.ts).
import { hsum, loadHalf } from './half';
import { blockBytes, quantsI16x8 } from './quant_blocks';
import { madd } from './simd';

/** Σ of 8 quants at q (as i16 lanes, see quantsI16x8) times the f32 activations at x as f32x4. */
@inline function dot8(q: v128, x: usize): v128 {
  return madd(
    f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(q)), v128.load(x, 16),
    f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(q)), v128.load(x)),
  );
}

/** acc + d · Σ over the block at p of q·x (x at o): quants widened straight from their loads. */
@inline function decodeBlock<Q>(acc: v128, p: usize, o: usize): v128 {
  const s = f32x4.add(
    f32x4.add(dot8(quantsI16x8<Q>(p, 0), o), dot8(quantsI16x8<Q>(p, 1), o + 32)),
    f32x4.add(dot8(quantsI16x8<Q>(p, 2), o + 64), dot8(quantsI16x8<Q>(p, 3), o + 96)),
  );
  return madd(s, f32x4.splat(loadHalf(p)), acc);
}

/** One token: two blocks a step on independent accumulators (see i16RowTimes1 on the shape). */
@inline export function f32RowTimes1<Q>(wr: usize, blocks: i32, x0: usize): f32 {
  const bb = blockBytes<Q>();
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let p = wr;
  let o = x0;
  let b = 0;
  for (; b + 2 <= blocks; b += 2) {
    a0 = decodeBlock<Q>(a0, p, o);
    a1 = decodeBlock<Q>(a1, p + bb, o + 128);
    p += 2 * bb;
    o += 256;
  }
  if (b < blocks) a0 = decodeBlock<Q>(a0, p, o);
  return hsum(f32x4.add(a0, a1));
}
