// Byte-level BPE over one pre-tokenized piece: start from one symbol per
// byte, repeatedly merge the adjacent pair of lowest merge rank (leftmost on
// ties) — HF `BPE::merge_word` order — until no pair has a merge. Merges live
// in an open-addressed table keyed by (left id, right id). Short pieces go
// through a direct-mapped word cache first.
import {
  CTX_BYTE_IDS, CTX_CACHE, CTX_CACHE_MASK, CTX_CAPACITY, CTX_MERGES, CTX_MERGE_MASK, CTX_SYMBOLS, field,
} from './context';
import { heapPop, heapPush, heapTop } from './merge-queue';

const NONE: u32 = 0xffffffff;
const SLOT = 16;
// Cache entry: u32 hash, u16 length, u16 count, key[32], ids u32[22].
export const CACHE_ENTRY: usize = 128;
const CACHE_KEY: u32 = 32;
const CACHE_IDS: u32 = 22;
// Pieces longer than this merge through the heap (merge-queue.ts), shorter ones by a scan.
const SCAN_MAX: u32 = 24;

@inline function pairHash(left: u32, right: u32): u32 {
  let h = (left * 0x9e3779b1) ^ (right * 0x85ebca6b);
  return h ^ (h >> 15);
}

/** Inserts n merges given as u32 {left, right, result} triples; rank = index. */
export function buildMerges(ctx: usize, triples: usize, n: u32): void {
  const slots = field(ctx, CTX_MERGES);
  const mask = <u32>field(ctx, CTX_MERGE_MASK);
  for (let r: u32 = 0; r < n; r++) {
    const t = triples + <usize>r * 12;
    const left = load<u32>(t);
    const right = load<u32>(t + 4);
    let k = pairHash(left, right) & mask;
    while (true) {
      const slot = slots + <usize>k * SLOT;
      const existing = load<u32>(slot);
      if (existing == NONE) {
        store<u32>(slot, left);
        store<u32>(slot + 4, right);
        store<u32>(slot + 8, r);
        store<u32>(slot + 12, load<u32>(t + 8));
        break;
      }
      if (existing == left && load<u32>(slot + 4) == right) break; // a repeated merge keeps its first rank
      k = (k + 1) & mask;
    }
  }
}

/** The slot of merge (left, right), or 0 when there is none. */
@inline function findMerge(slots: usize, mask: u32, left: u32, right: u32): usize {
  let k = pairHash(left, right) & mask;
  while (true) {
    const slot = slots + <usize>k * SLOT;
    const l = load<u32>(slot);
    if (l == left && load<u32>(slot + 4) == right) return slot;
    if (l == NONE) return 0;
    k = (k + 1) & mask;
  }
  return 0;
}

@inline function rankOf(slots: usize, mask: u32, left: u32, right: u32): u32 {
  const slot = findMerge(slots, mask, left, right);
  return slot == 0 ? NONE : load<u32>(slot + 8);
}

function hashBytes(p: usize, n: u32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * 0x01000193;
  return h;
}

function sameBytes(a: usize, b: usize, n: u32): bool {
  let i: u32 = 0;
  for (; i + 8 <= n; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

// Symbol i (16 bytes): id, next, prev, rank of the pair (i, next).
@inline function sym(symbols: usize, i: u32): usize {
  return symbols + (<usize>i << 4);
}

/** Merges symbol `at` with its next; updates the neighbouring pair ranks.
 *  Returns the previous symbol (its rank changed) or NONE. */
function merge(symbols: usize, slots: usize, mask: u32, n: u32, at: u32): u32 {
  const a = sym(symbols, at);
  const j = load<u32>(a + 4);
  const b = sym(symbols, j);
  const merged = load<u32>(findMerge(slots, mask, load<u32>(a), load<u32>(b)) + 12);
  const after = load<u32>(b + 4);
  store<u32>(b + 12, NONE); // j is gone: its queued pair is stale
  store<u32>(a, merged);
  store<u32>(a + 4, after);
  if (after < n) {
    store<u32>(sym(symbols, after) + 8, at);
    store<u32>(a + 12, rankOf(slots, mask, merged, load<u32>(sym(symbols, after))));
  } else {
    store<u32>(a + 12, NONE);
  }
  if (at == 0) return NONE;
  const before = load<u32>(a + 8);
  const c = sym(symbols, before);
  store<u32>(c + 12, rankOf(slots, mask, load<u32>(c), merged));
  return before;
}

/** Encodes the n bytes at p; writes ids at out and returns how many. */
function mergeWord(ctx: usize, p: usize, n: u32, out: usize): u32 {
  const symbols = field(ctx, CTX_SYMBOLS);
  const byteIds = field(ctx, CTX_BYTE_IDS);
  const slots = field(ctx, CTX_MERGES);
  const mask = <u32>field(ctx, CTX_MERGE_MASK);
  for (let i: u32 = 0; i < n; i++) {
    const s = sym(symbols, i);
    store<u32>(s, load<u32>(byteIds + (<usize>load<u8>(p + i) << 2)));
    store<u32>(s + 4, i + 1);
    store<u32>(s + 8, i - 1);
  }
  for (let i: u32 = 0; i + 1 < n; i++) {
    store<u32>(sym(symbols, i) + 12, rankOf(slots, mask, load<u32>(sym(symbols, i)), load<u32>(sym(symbols, i + 1))));
  }
  store<u32>(sym(symbols, n - 1) + 12, NONE);
  if (n <= SCAN_MAX) {
    while (true) {
      let best = NONE;
      let at: u32 = 0;
      for (let i: u32 = 0; i < n; i = load<u32>(sym(symbols, i) + 4)) {
        const r = load<u32>(sym(symbols, i) + 12);
        if (r < best) { best = r; at = i; }
      }
      if (best == NONE) break;
      merge(symbols, slots, mask, n, at);
    }
  } else {
    // The heap sits past the symbols: at most n entries plus 2 per merge.
    const heap = (symbols + (<usize>(<u32>field(ctx, CTX_CAPACITY) + 1) << 4) + 7) & ~(<usize>7);
    let size: u32 = 0;
    for (let i: u32 = 0; i + 1 < n; i++) {
      const r = load<u32>(sym(symbols, i) + 12);
      if (r != NONE) size = heapPush(heap, size, (<u64>r << 32) | i);
    }
    while (size > 0) {
      const top = heapTop(heap);
      size = heapPop(heap, size);
      const at = <u32>top;
      if (load<u32>(sym(symbols, at) + 12) != <u32>(top >> 32)) continue; // stale: a neighbour merged
      const before = merge(symbols, slots, mask, n, at);
      const r = load<u32>(sym(symbols, at) + 12);
      if (r != NONE) size = heapPush(heap, size, (<u64>r << 32) | at);
      if (before != NONE) {
        const rb = load<u32>(sym(symbols, before) + 12);
        if (rb != NONE) size = heapPush(heap, size, (<u64>rb << 32) | before);
      }
    }
  }
  let count: u32 = 0;
  for (let i: u32 = 0; i < n; i = load<u32>(sym(symbols, i) + 4)) {
    store<u32>(out + (<usize>count << 2), load<u32>(sym(symbols, i)));
    count++;
  }
  return count;
}

/** BPE of one piece through the word cache; returns the number of ids written. */
export function encodePiece(ctx: usize, p: usize, n: u32, out: usize): u32 {
  if (n == 1) {
    store<u32>(out, load<u32>(field(ctx, CTX_BYTE_IDS) + (<usize>load<u8>(p) << 2)));
    return 1;
  }
  if (n > CACHE_KEY) return mergeWord(ctx, p, n, out);
  const h = hashBytes(p, n);
  const entry = field(ctx, CTX_CACHE) + <usize>(h & <u32>field(ctx, CTX_CACHE_MASK)) * CACHE_ENTRY;
  const meta = load<u32>(entry + 4);
  if (load<u32>(entry) == h && (meta & 0xffff) == n && sameBytes(entry + 8, p, n)) {
    const count = meta >> 16;
    memory.copy(out, entry + 40, <usize>count << 2);
    return count;
  }
  const count = mergeWord(ctx, p, n, out);
  if (count <= CACHE_IDS) {
    store<u32>(entry, h);
    store<u32>(entry + 4, n | (count << 16));
    memory.copy(entry + 8, p, n);
    memory.copy(entry + 40, out, <usize>count << 2);
  }
  return count;
}
