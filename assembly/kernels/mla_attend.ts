// Absorbed MLA over one layer's paged latent cache (design.md "Absorbed
// decode"; vLLM's PagedAttention applied to the latent rows). Row t of the
// step sits at position pos_t of its own sequence, whose cache rows live in
// blocks of `blockSize` rows; for each head h:
//   s_j = (qlat[t,h] · c_j + qpe[t,h] · kpe_j) · scale, j ≤ pos_t
//   olat[t,h] = Σ_j softmax(s)_j · c_j
// Cache rows are [c (kvr) | kpe (rope)], `width` apart inside a block.
// Scores: each latent row is loaded once and dotted with four heads at a
// time. Output: the rows of a block are taken in tiles of at most ROW_TILE;
// for each 32-column slice of a tile (4 KiB, in L1) and each head, the slice
// of olat is accumulated in registers over the tile's rows (eight independent
// chains), so olat is read and written once per tile instead of once per row.
// Per element, the sums run over j in ascending order, whatever the block
// size: the result does not depend on how the cache is paged.
import { expF32x4 } from './exp';
import { hsum } from './half';
import { madd } from './simd';

/** Rows per output tile: 32 rows of V2 width (576 f32) are 72 KiB. */
const ROW_TILE = 32;

@inline function dot(a: usize, b: usize, n: i32): f32 {
  const n8 = n & ~7;
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  for (let i = 0; i < n8; i += 8) {
    const o = <usize>i << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), acc1);
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (let i = n8; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** out[0..4) = q_i · c over n for the four vectors q_i = q + i·qs bytes (4 chains, c loaded once). */
@inline function dot4(q: usize, qs: usize, c: usize, n: i32, out: usize, outStride: usize, scale: f32): void {
  const n4 = n & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const cv = v128.load(c + o);
    a0 = madd(v128.load(q + o), cv, a0);
    a1 = madd(v128.load(q + qs + o), cv, a1);
    a2 = madd(v128.load(q + 2 * qs + o), cv, a2);
    a3 = madd(v128.load(q + 3 * qs + o), cv, a3);
  }
  let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const cv = load<f32>(c + o);
    s0 += load<f32>(q + o) * cv;
    s1 += load<f32>(q + qs + o) * cv;
    s2 += load<f32>(q + 2 * qs + o) * cv;
    s3 += load<f32>(q + 3 * qs + o) * cv;
  }
  // Adds the rope part that the caller stored first.
  store<f32>(out, (load<f32>(out) + s0) * scale);
  store<f32>(out + outStride, (load<f32>(out + outStride) + s1) * scale);
  store<f32>(out + 2 * outStride, (load<f32>(out + 2 * outStride) + s2) * scale);
  store<f32>(out + 3 * outStride, (load<f32>(out + 3 * outStride) + s3) * scale);
}

/** q · c over n with dot4's arithmetic for one of its vectors (one chain of 4 lanes, hsum, scalar tail). */
@inline function dot1(q: usize, c: usize, n: i32): f32 {
  const n4 = n & ~3;
  let a = f32x4.splat(0);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    a = madd(v128.load(q + o), v128.load(c + o), a);
  }
  let s = hsum(a);
  for (let i = n4; i < n; i++) s += load<f32>(q + (<usize>i << 2)) * load<f32>(c + (<usize>i << 2));
  return s;
}

/**
 * scores[h·n + j] for one cache row j and all heads. Heads past the last group
 * of four get the bits they would get inside one ((rope + latent) · scale, the
 * latent dot as dot4's): a head's scores do not depend on how a thread split
 * grouped the heads (batch invariance, mla-attention.ts).
 */
@inline function scoreRow(
  qlatT: usize, qpeT: usize, qpeHeadStride: i32, row: usize, kvr: i32, rope: i32, heads: i32,
  scores: usize, n: i32, scale: f32,
): void {
  const kpe = row + (<usize>kvr << 2);
  const qs = <usize>kvr << 2;
  const ss = <usize>n << 2;
  let h = 0;
  for (; h + 4 <= heads; h += 4) {
    const out = scores + <usize>h * ss;
    for (let i = 0; i < 4; i++) store<f32>(out + <usize>i * ss, dot(qpeT + ((<usize>(h + i) * <usize>qpeHeadStride) << 2), kpe, rope));
    dot4(qlatT + <usize>h * qs, qs, row, kvr, out, ss, scale);
  }
  for (; h < heads; h++) {
    const r = dot(qpeT + ((<usize>h * <usize>qpeHeadStride) << 2), kpe, rope);
    store<f32>(scores + <usize>h * ss, (r + dot1(qlatT + <usize>h * qs, row, kvr)) * scale);
  }
}

/** In-place softmax of f32[n] (max-subtracted). */
@inline function softmaxInPlace(s: usize, n: i32): void {
  const n4 = n & ~3;
  let mv = f32x4.splat(-Infinity);
  for (let j = 0; j < n4; j += 4) mv = f32x4.max(mv, v128.load(s + (<usize>j << 2)));
  let max = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (let j = n4; j < n; j++) max = Mathf.max(max, load<f32>(s + (<usize>j << 2)));
  const maxv = f32x4.splat(max);
  let sv = f32x4.splat(0);
  for (let j = 0; j < n4; j += 4) {
    const e = expF32x4(f32x4.sub(v128.load(s + (<usize>j << 2)), maxv));
    v128.store(s + (<usize>j << 2), e);
    sv = f32x4.add(sv, e);
  }
  let sum = hsum(sv);
  for (let j = n4; j < n; j++) {
    const e = Mathf.exp(load<f32>(s + (<usize>j << 2)) - max);
    store<f32>(s + (<usize>j << 2), e);
    sum += e;
  }
  const inv: f32 = 1 / sum;
  const invv = f32x4.splat(inv);
  for (let j = 0; j < n4; j += 4) v128.store(s + (<usize>j << 2), f32x4.mul(v128.load(s + (<usize>j << 2)), invv));
  for (let j = n4; j < n; j++) store<f32>(s + (<usize>j << 2), load<f32>(s + (<usize>j << 2)) * inv);
}

/** o[0..32) += Σ_{j < n} p[j] · c[j·rowBytes + 0..32) in eight register chains. */
@inline function accumulate32(o: usize, p: usize, c: usize, rowBytes: usize, n: i32): void {
  let a0 = v128.load(o), a1 = v128.load(o, 16), a2 = v128.load(o, 32), a3 = v128.load(o, 48);
  let a4 = v128.load(o, 64), a5 = v128.load(o, 80), a6 = v128.load(o, 96), a7 = v128.load(o, 112);
  let r = c;
  for (let j = 0; j < n; j++) {
    const pv = f32x4.splat(load<f32>(p + (<usize>j << 2)));
    a0 = madd(pv, v128.load(r), a0);
    a1 = madd(pv, v128.load(r, 16), a1);
    a2 = madd(pv, v128.load(r, 32), a2);
    a3 = madd(pv, v128.load(r, 48), a3);
    a4 = madd(pv, v128.load(r, 64), a4);
    a5 = madd(pv, v128.load(r, 80), a5);
    a6 = madd(pv, v128.load(r, 96), a6);
    a7 = madd(pv, v128.load(r, 112), a7);
    r += rowBytes;
  }
  v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
  v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
}

/** Columns [from, kvr) of o += Σ_{j < n} p[j] · c_j (rows c_j at c + j·rowBytes), 4 then 1 at a time. */
@inline function accumulateTail(o: usize, p: usize, c: usize, rowBytes: usize, n: i32, from: i32, kvr: i32): void {
  let i = from;
  for (; i + 4 <= kvr; i += 4) {
    const oi = o + (<usize>i << 2);
    let a = v128.load(oi);
    for (let j = 0; j < n; j++) {
      a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(p + (<usize>j << 2))), v128.load(c + <usize>j * rowBytes + (<usize>i << 2))));
    }
    v128.store(oi, a);
  }
  for (; i < kvr; i++) {
    const oi = o + (<usize>i << 2);
    let a = load<f32>(oi);
    for (let j = 0; j < n; j++) a += load<f32>(p + (<usize>j << 2)) * load<f32>(c + <usize>j * rowBytes + (<usize>i << 2));
    store<f32>(oi, a);
  }
}

/**
 * rows: i32 [T, 2] — (position, first entry of the row's block table in
 * blockRows); blockRows: u32 byte addresses of blocks, a sequence's blocks in
 * order. qlat and olat: f32 rows `latStride` apart, heads kvr apart in a row.
 * scratch: f32 [heads · (max position + 1)] for the scores.
 */
export function mla_attend(
  qlat: usize, qpe: usize, qpeStride: i32, qpeHeadStride: i32, latStride: i32,
  blockRows: usize, rows: usize, blockSize: i32, width: i32, kvr: i32, rope: i32,
  heads: i32, T: i32, scale: f32, olat: usize, scratch: usize,
): void {
  const rowBytes = <usize>width << 2;
  const k32 = kvr & ~31;
  for (let t = 0; t < T; t++) {
    const n = load<i32>(rows + (<usize>t << 3)) + 1;
    const table = blockRows + (<usize>load<i32>(rows + (<usize>t << 3), 4) << 2);
    const qlatT = qlat + ((<usize>t * <usize>latStride) << 2);
    const qpeT = qpe + ((<usize>t * <usize>qpeStride) << 2);
    // Scores [heads, n] in scratch, then probabilities in their place.
    for (let j0 = 0, b = 0; j0 < n; j0 += blockSize, b++) {
      const block = <usize>load<u32>(table + (<usize>b << 2));
      const j1 = min(n, j0 + blockSize);
      for (let j = j0; j < j1; j++) {
        scoreRow(qlatT, qpeT, qpeHeadStride, block + <usize>(j - j0) * rowBytes, kvr, rope, heads, scratch + (<usize>j << 2), n, scale);
      }
    }
    for (let h = 0; h < heads; h++) softmaxInPlace(scratch + ((<usize>h * <usize>n) << 2), n);
    const olatT = olat + ((<usize>t * <usize>latStride) << 2);
    for (let h = 0; h < heads; h++) memory.fill(olatT + ((<usize>h * <usize>kvr) << 2), 0, <usize>kvr << 2);
    for (let j0 = 0, b = 0; j0 < n; j0 += blockSize, b++) {
      const block = <usize>load<u32>(table + (<usize>b << 2));
      const blockEnd = min(n, j0 + blockSize);
      for (let a = j0; a < blockEnd; a += ROW_TILE) {
        // A 32-column slice of the tile (≤ ROW_TILE × 128 bytes) stays in L1 for every head.
        const count = min(blockEnd, a + ROW_TILE) - a;
        const tile = block + <usize>(a - j0) * rowBytes;
        for (let i = 0; i < k32; i += 32) {
          for (let h = 0; h < heads; h++) {
            accumulate32(olatT + ((<usize>h * <usize>kvr + <usize>i) << 2), scratch + ((<usize>h * <usize>n + <usize>a) << 2), tile + (<usize>i << 2), rowBytes, count);
          }
        }
        if (k32 < kvr) {
          for (let h = 0; h < heads; h++) {
            accumulateTail(olatT + ((<usize>h * <usize>kvr) << 2), scratch + ((<usize>h * <usize>n + <usize>a) << 2), tile, rowBytes, count, k32, kvr);
          }
        }
      }
    }
  }
}
