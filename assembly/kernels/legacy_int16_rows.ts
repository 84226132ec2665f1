// One Q5_0, Q5_1, Q4_1, IQ4_NL or IQ4_XS weight row against int16-quantized
// activations (act_quant.ts), the integer path of
// CpuBackendOptions.activations = 'int16'. The first four are what llama.cpp's
// K-quant and IQ4_XS presets write for tensors whose rows are not a multiple
// of 256 — Q5_0 beside Q4_K (Q4_K_M, Q4_K_S), Q5_1 beside Q5_K, IQ4_NL beside
// IQ4_XS — and DeepSeek-V2-Lite's expert ffn_down (K = 1408) is such a
// tensor, a fifth of a Q4_K_M decode.
//
// Per 32 values (layouts in blocks_legacy.ts, blocks_iq4.ts): v = nibble
// (| 16·5th bit for Q5; IQ4: the codebook value of the nibble, −127..113)
// widened to i16 and dotted with the activation block's q
// (i32x4.dot_i16x8_s), S = Σ v·q exact in i32 (≤ 32 · 127 · 16383 < 2^26);
//   Q5_0  x = (v − 16)·d:  s·d·(S + 2·C)        (C = −8·Σq, so −16·Σq = 2·C)
//   Q5_1, Q4_1  x = v·d + m:  s·d·S − s·(m/8)·C
//   IQ4_NL  x = v·d:  s·d·S;  IQ4_XS (256-value super-blocks of 8 × 32)
//           x = v·d·(ls − 32), ls the sub-block's 6-bit scale:  s·d·(ls − 32)·S
// C is the activation block's i32x4 (−8·Σq, 0, 0, 0), so the m term lands in
// lane 0 only. Only the block's integer sums are converted to f32.
//
// Even blocks go to one accumulator and odd blocks to another, hsum(even +
// odd) at the end, and every T runs this same row arithmetic (only the
// activation addresses depend on T), so a token's output bits do not depend
// on its batch (matmul_int16_tiles.ts "Batch invariance").
import { actHeaderBytes } from './act_quant';
import { fifthBits, highNibbles, lowNibbles } from './block_dot';
import { codebook, xsScaleMinus32 } from './blocks_iq4';
import { storeTokenOutputs, subBlockDot } from './kquant_int16_rows';
import { fence } from './fence';
import { hsum, loadScale } from './half';
import { madd } from './simd';

/**
 * From this many tokens rows take the token loop (rowTimesT) rather than the
 * tiles. Measured against the tiles (bench/kernel-builds-ab.ts): Q5_0 1.11× at
 * T = 2, 1.29× at 3, 2.1× at 16; Q4_1 0.95× at 2, 1.09× at 3, 1.7× at 16;
 * IQ4_XS 0.91×, 1.10×, 1.8×. The 5th bits make widening dearer, so Q5 gains sooner.
 */
@inline export function legacyTokenLoopMinT<F>(): i32 {
  return hasFifthBit<F>() ? 2 : 3;
}

// The format as a compile-time type: Q5_0 = i8, Q5_1 = u16, Q4_1 = u8, IQ4_NL = i16, IQ4_XS = u32
// (matmul_blocks_int16.ts holds the exports and the pass over rows and tokens).
@inline function isIq4<F>(): bool { return sizeof<F>() == 4 || (isSigned<F>() && sizeof<F>() == 2); }
@inline function isXs<F>(): bool { return sizeof<F>() == 4; }
@inline function hasMin<F>(): bool { return !isSigned<F>() && !isXs<F>(); }
@inline function hasFifthBit<F>(): bool { return !isIq4<F>() && (isSigned<F>() || sizeof<F>() == 2); }
/** Bytes per 32 values (IQ4_XS: per 256, its super-block). */
/** Bytes of a row of K values. */
@inline export function legacyRowBytes<F>(K: i32): usize {
  return isXs<F>() ? <usize>(K >> 8) * 136 : <usize>(K >> 5) * legacyBlockBytes<F>();
}

@inline function legacyBlockBytes<F>(): usize {
  if (isXs<F>()) return 136;
  if (isIq4<F>()) return 18;
  return isSigned<F>() ? 22 : sizeof<F>() == 2 ? 24 : 20;
}
/** Offset of the 16 nibble bytes in the block (after d, m and qh where the format has them); IQ4_XS: of sub-block 0's. */
@inline function nibblesAt<F>(): usize { return isXs<F>() ? 8 : (hasMin<F>() ? 4 : 2) + (hasFifthBit<F>() ? 4 : 0); }

/** The codebook values of the 32 IQ4 nibbles at p: elements 0..15 (high = false) or 16..31, as i8. */
@inline function iq4Values(p: usize, high: bool): v128 {
  const nibbles = v128.load(p);
  return i8x16.swizzle(codebook(), high ? highNibbles(nibbles) : lowNibbles(nibbles));
}

/**
 * Elements 0..15 (high = false) or 16..31 of the block at p as bytes: IQ4's
 * codebook values (i8), else the nibble | 16·5th bit (u8). Calling it for
 * both halves repeats no work: V8 shares the common loads and shuffles.
 */
@inline function blockValues<F>(p: usize, high: bool): v128 {
  if (isIq4<F>()) return iq4Values(p + nibblesAt<F>(), high);
  const nibbles = v128.load(p + nibblesAt<F>());
  const v = high ? highNibbles(nibbles) : lowNibbles(nibbles);
  if (!hasFifthBit<F>()) return v;
  return v128.or(v, fifthBits(p + nibblesAt<F>() - 4, high));
}

/** Eight of blockValues' bytes (the upper eight for upper = true) widened to i16: sign-extended for IQ4, zero-extended else. */
@inline function widen<F>(v: v128, upper: bool): v128 {
  if (isIq4<F>()) return upper ? i16x8.extend_high_i8x16_s(v) : i16x8.extend_low_i8x16_s(v);
  return upper ? i16x8.extend_high_i8x16_u(v) : i16x8.extend_low_i8x16_u(v);
}

/** Σ v·q over the block at p against activation block q, as i32x4 partial sums (Q5_0's −16 not included). */
@inline function blockSum<F>(p: usize, q: usize): v128 {
  const lo = blockValues<F>(p, false), hi = blockValues<F>(p, true);
  return subBlockDot(widen<F>(lo, false), widen<F>(lo, true), widen<F>(hi, false), widen<F>(hi, true), q);
}

/** The block's integer sum with Q5_0's −16·Σq = 2·C added (C at c). */
@inline function withOffset<F>(sum: v128, c: usize): v128 {
  return hasMin<F>() || isIq4<F>() ? sum : i32x4.add(sum, i32x4.shl(v128.load(c), 1));
}

/**
 * Token t of T through one row (`blocks` 32-value blocks at wr): one block per
 * iteration, the two accumulators swapping roles (a two-block body spills on
 * x64's 16 vector registers); each block's sum fenced before the next
 * block's loads (fence.ts). Scales through loadScale: these formats' d and m
 * can be subnormal halves, which loadHalf would multiply (an x86 microcode
 * assist).
 */
@inline export function legacyRowInt16<F>(wr: usize, blocks: i32, xq: usize, T: i32, t: i32): f32 {
  const n = <usize>blocks * <usize>T;
  const qStep = <usize>T << 6, sStep = <usize>T << 2, cStep = <usize>T << 4;
  let q = xq + actHeaderBytes(n) + (<usize>t << 6);
  let s = xq + (n << 4) + (<usize>t << 2);
  let c = xq + (<usize>t << 4);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  if (isXs<F>()) {
    // Super-blocks of 8 sub-blocks, each one activation block; the accumulators alternate across all of them.
    const end = wr + <usize>(blocks >> 3) * 136;
    for (let p = wr; p < end; p += 136) {
      const d = loadScale(p);
      for (let ib = 0; ib < 8; ib++) {
        const sub = p + (<usize>ib << 4); // sub-block ib: its nibbles at sub + nibblesAt<F>() = p + 8 + 16·ib
        const sum = fence(blockSum<F>(sub, q));
        // d·(ls − 32) first on the sum, then s: d·(ls − 32)·s alone can be subnormal (tiny activations) and lose bits.
        const next = madd(f32x4.mul(f32x4.convert_i32x4_s(sum), f32x4.splat(d * <f32>xsScaleMinus32(p, ib))), v128.load32_splat(s), a0);
        a0 = a1;
        a1 = next;
        q += qStep;
        s += sStep;
      }
    }
    return hsum(f32x4.add(a0, a1));
  }
  let p = wr;
  const end = wr + <usize>blocks * legacyBlockBytes<F>();
  while (p < end) {
    const sum = fence(withOffset<F>(blockSum<F>(p, q), c));
    const sv = load<f32>(s);
    let next = madd(f32x4.convert_i32x4_s(sum), f32x4.splat(loadScale(p) * sv), a0);
    if (hasMin<F>()) next = madd(f32x4.convert_i32x4_s(v128.load(c)), f32x4.splat(loadScale(p + 2) * -0.125 * sv), next);
    a0 = a1;
    a1 = next;
    p += legacyBlockBytes<F>();
    q += qStep;
    s += sStep;
    c += cStep;
  }
  return hsum(f32x4.add(a0, a1));
}

/**
 * All T tokens through one row, for prefill: each block's values are widened
 * once (anchored in registers by fence before the token loop, which V8 would
 * otherwise sink into it) and meet every token's activation block; each
 * token's even- and odd-block accumulators live in scratch (32 bytes a
 * token). Every float operation is legacyRowInt16's, in its order, on the same
 * integer sums, so each token's output has the bits it has alone.
 */
@inline export function legacyRowTimesT<F>(wr: usize, blocks: i32, xq: usize, T: i32, scratch: usize, out: usize, os: usize): void {
  const n = <usize>blocks * <usize>T;
  const qBase = xq + actHeaderBytes(n), sBase = xq + (n << 4);
  memory.fill(scratch, 0, <usize>T << 5);
  for (let b = 0; b < blocks; b++) {
    // The block (IQ4_XS: sub-block b & 7 of super-block b >> 3, as a block whose nibbles are at p + 8).
    const p = isXs<F>() ? wr + <usize>(b >> 3) * 136 + (<usize>(b & 7) << 4) : wr + <usize>b * legacyBlockBytes<F>();
    const lo = blockValues<F>(p, false), hi = blockValues<F>(p, true);
    const w0 = fence(widen<F>(lo, false)), w1 = fence(widen<F>(lo, true));
    const w2 = fence(widen<F>(hi, false)), w3 = fence(widen<F>(hi, true));
    const e0 = <usize>b * <usize>T;
    let q = qBase + (e0 << 6), s = sBase + (e0 << 2), c = xq + (e0 << 4);
    let a = scratch + (<usize>(b & 1) << 4);
    if (isXs<F>()) {
      const superBlock = wr + <usize>(b >> 3) * 136;
      const dls = f32x4.splat(loadScale(superBlock) * <f32>xsScaleMinus32(superBlock, b & 7));
      for (let t = 0; t < T; t++) {
        const sum = subBlockDot(w0, w1, w2, w3, q);
        v128.store(a, madd(f32x4.mul(f32x4.convert_i32x4_s(sum), dls), v128.load32_splat(s), v128.load(a)));
        q += 64;
        s += 4;
        a += 32;
      }
      continue;
    }
    const d = loadScale(p);
    const m = hasMin<F>() ? loadScale(p + 2) * -0.125 : 0;
    for (let t = 0; t < T; t++) {
      const sum = withOffset<F>(subBlockDot(w0, w1, w2, w3, q), c);
      const sv = load<f32>(s);
      let next = madd(f32x4.convert_i32x4_s(sum), f32x4.splat(d * sv), v128.load(a));
      if (hasMin<F>()) next = madd(f32x4.convert_i32x4_s(v128.load(c)), f32x4.splat(m * sv), next);
      v128.store(a, next);
      q += 64;
      s += 4;
      c += 16;
      a += 32;
    }
  }
  storeTokenOutputs(scratch, T, out, os);
}
