// A binary min-heap of u64 (rank << 32 | position) in scratch memory, for BPE
// over long pieces: popping gives the lowest rank, leftmost on ties — HF's
// BPE priority-queue order — in O(log n) instead of a scan per merge.
// Entries go stale when a neighbour merges; the caller checks on pop.

@inline function at(heap: usize, i: u32): u64 {
  return load<u64>(heap + (<usize>i << 3));
}

@inline function put(heap: usize, i: u32, v: u64): void {
  store<u64>(heap + (<usize>i << 3), v);
}

/** Pushes v onto the heap of `size` entries; returns the new size. */
export function heapPush(heap: usize, size: u32, v: u64): u32 {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = at(heap, parent);
    if (p <= v) break;
    put(heap, i, p);
    i = parent;
  }
  put(heap, i, v);
  return size + 1;
}

/** Removes the minimum of a non-empty heap of `size` entries (read it first with heapTop). */
export function heapPop(heap: usize, size: u32): u32 {
  const n = size - 1;
  if (n == 0) return 0;
  const v = at(heap, n);
  let i: u32 = 0;
  while (true) {
    const left: u32 = 2 * i + 1;
    if (left >= n) break;
    let child = left;
    if (left + 1 < n && at(heap, left + 1) < at(heap, left)) child = left + 1;
    const c = at(heap, child);
    if (v <= c) break;
    put(heap, i, c);
    i = child;
  }
  put(heap, i, v);
  return n;
}

@inline export function heapTop(heap: usize): u64 {
  return at(heap, 0);
}
