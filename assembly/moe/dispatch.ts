// Batch dispatch for routed experts: group the (token, slot) pairs by expert
// so each expert's weights are read once per batch; gather the tokens' rows
// and scatter the weighted expert outputs back.
import { madd } from '../kernels/simd';

/** counts i32[E]; order i32[T·k] = slots t·k + j sorted by (expert, t). Returns the number of active experts. */
export function moe_group(idx: usize, T: i32, k: i32, E: i32, counts: usize, order: usize): i32 {
  memory.fill(counts, 0, <usize>E << 2);
  const slots = T * k;
  for (let s = 0; s < slots; s++) {
    const e = load<i32>(idx + (<usize>s << 2));
    store<i32>(counts + (<usize>e << 2), load<i32>(counts + (<usize>e << 2)) + 1);
  }
  // Exclusive prefix sums give each expert's first position; fill in slot order (stable, so by t).
  let active = 0;
  let running = 0;
  for (let e = 0; e < E; e++) {
    const c = load<i32>(counts + (<usize>e << 2));
    if (c > 0) active++;
    store<i32>(order + (<usize>e << 2) + (<usize>slots << 2), running); // cursor, past the order array
    running += c;
  }
  for (let s = 0; s < slots; s++) {
    const e = load<i32>(idx + (<usize>s << 2));
    const cursor = order + (<usize>slots << 2) + (<usize>e << 2);
    const at = load<i32>(cursor);
    store<i32>(order + (<usize>at << 2), s);
    store<i32>(cursor, at + 1);
  }
  return active;
}

export function gather_rows(src: usize, srcStride: i32, rows: usize, n: i32, cols: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    const r = load<i32>(rows + (<usize>i << 2));
    memory.copy(dst + ((<usize>i * <usize>cols) << 2), src + ((<usize>r * <usize>srcStride) << 2), <usize>cols << 2);
  }
}

export function scatter_add_rows(src: usize, cols: i32, rows: usize, weights: usize, n: i32, dst: usize, dstStride: i32): void {
  const c4 = cols & ~3;
  for (let i = 0; i < n; i++) {
    const r = load<i32>(rows + (<usize>i << 2));
    const w = load<f32>(weights + (<usize>i << 2));
    const wv = f32x4.splat(w);
    const s = src + ((<usize>i * <usize>cols) << 2);
    const d = dst + ((<usize>r * <usize>dstStride) << 2);
    for (let c = 0; c < c4; c += 4) {
      const o = <usize>c << 2;
      v128.store(d + o, madd(wv, v128.load(s + o), v128.load(d + o)));
    }
    for (let c = c4; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(d + o, load<f32>(d + o) + w * load<f32>(s + o));
    }
  }
}
