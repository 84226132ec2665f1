// Absorbed MLA over one layer's latent cache (design.md "Absorbed decode").
// For each query t (position pos0 + t) and head h:
//   s_j = (qlat[t,h] · c_j + qpe[t,h] · kpe_j) · scale, j ≤ pos0 + t
//   olat[t,h] = Σ_j softmax(s)_j · c_j
// Cache rows are [c (kvr) | kpe (rope)]. The loops run over cache rows outside
// and heads inside, so each latent row is loaded once for all heads (decode is
// bandwidth-bound on the cache), vectorized over the latent dimension.
import { hsum } from './half';

@inline function dot(a: usize, b: usize, n: i32): f32 {
  const n8 = n & ~7;
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  for (let i = 0; i < n8; i += 8) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (let i = n8; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/** out[0..n) += p · row[0..n) */
@inline function axpy(out: usize, row: usize, p: f32, n: i32): void {
  const n4 = n & ~3;
  const pv = f32x4.splat(p);
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(out + o), f32x4.mul(pv, v128.load(row + o))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(out + o) + p * load<f32>(row + o));
  }
}

export function mla_attend(
  qlat: usize, qpe: usize, qpeStride: i32, qpeHeadStride: i32,
  cache: usize, width: i32, kvr: i32, rope: i32,
  heads: i32, T: i32, pos0: i32, scale: f32, olat: usize, scratch: usize,
): void {
  const rowBytes = <usize>width << 2;
  for (let t = 0; t < T; t++) {
    const n = pos0 + t + 1;
    const qlatT = qlat + ((<usize>t * <usize>heads * <usize>kvr) << 2);
    const qpeT = qpe + ((<usize>t * <usize>qpeStride) << 2);
    // Scores, [heads, n] in scratch.
    for (let j = 0; j < n; j++) {
      const row = cache + <usize>j * rowBytes;
      const kpe = row + (<usize>kvr << 2);
      for (let h = 0; h < heads; h++) {
        const s = dot(qlatT + ((<usize>h * <usize>kvr) << 2), row, kvr) + dot(qpeT + ((<usize>h * <usize>qpeHeadStride) << 2), kpe, rope);
        store<f32>(scratch + ((<usize>h * <usize>n + <usize>j) << 2), s * scale);
      }
    }
    // Softmax per head; probabilities replace the scores.
    for (let h = 0; h < heads; h++) {
      const sh = scratch + ((<usize>h * <usize>n) << 2);
      let max: f32 = -Infinity;
      for (let j = 0; j < n; j++) max = Mathf.max(max, load<f32>(sh + (<usize>j << 2)));
      let sum: f32 = 0;
      for (let j = 0; j < n; j++) {
        const e = Mathf.exp(load<f32>(sh + (<usize>j << 2)) - max);
        store<f32>(sh + (<usize>j << 2), e);
        sum += e;
      }
      const inv: f32 = 1 / sum;
      for (let j = 0; j < n; j++) store<f32>(sh + (<usize>j << 2), load<f32>(sh + (<usize>j << 2)) * inv);
    }
    // o_lat = Σ_j p_j · c_j, again one pass over the cache rows for all heads.
    const olatT = olat + ((<usize>t * <usize>heads * <usize>kvr) << 2);
    memory.fill(olatT, 0, (<usize>heads * <usize>kvr) << 2);
    for (let j = 0; j < n; j++) {
      const row = cache + <usize>j * rowBytes;
      for (let h = 0; h < heads; h++) {
        axpy(olatT + ((<usize>h * <usize>kvr) << 2), row, load<f32>(scratch + ((<usize>h * <usize>n + <usize>j) << 2)), kvr);
      }
    }
  }
}
