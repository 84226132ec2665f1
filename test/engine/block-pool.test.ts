// The latent-cache bookkeeping on its own (no model): the block pool's ids,
// holders and eviction order, and the cache manager's prefix hits, misses and
// evictions — including a prefix whose middle block was evicted.
import { describe, expect, it } from 'vitest';
import { BlockPool, prefixKey } from '../../src/engine/block-pool.ts';
import { LatentCacheManager } from '../../src/engine/latent-cache-manager.ts';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('BlockPool', () => {
  it('mints ids only as they are needed, up to the capacity; a short allocation takes nothing', () => {
    const pool = new BlockPool(5);
    expect(pool.minted).toBe(0);
    expect(pool.allocate(2)).toEqual([0, 1]);
    expect(pool.minted).toBe(2);
    expect(pool.allocate(4), 'only 3 left').toBeNull();
    expect(pool.inUse).toBe(2);
    expect(pool.allocate(3)).toEqual([2, 3, 4]);
    expect(pool.available).toBe(0);
    pool.release([0, 1, 2, 3, 4]);
    expect(pool.inUse).toBe(0);
    expect(pool.minted, 'ids are reused, never minted twice').toBe(5);
  });

  it('reuses plain free blocks before minting, and evicts cached ones only when nothing else is left, oldest first', () => {
    const pool = new BlockPool(4);
    const [a, b, c] = pool.allocate(3)!;
    pool.cache(a, prefixKey(0, [1, 2]));
    pool.cache(b, prefixKey(0, [3, 4]));
    pool.release([b, a, c]); // b freed before a: b is evicted first
    expect(pool.cachedFree).toBe(2);
    expect(pool.allocate(1), 'the plain free block first').toEqual([c]);
    expect(pool.allocate(1), 'then a new id').toEqual([3]);
    expect(pool.allocate(1), 'then the least recently freed cached block').toEqual([b]);
    expect(pool.lookup(prefixKey(0, [3, 4])), 'its prefix is forgotten').toBeUndefined();
    expect(pool.lookup(prefixKey(0, [1, 2]))).toBe(a);
  });

  it('a shared cached block leaves the free list and is held by each sharer', () => {
    const pool = new BlockPool(2);
    const [a] = pool.allocate(1)!;
    pool.cache(a, prefixKey(0, [9]));
    pool.release([a]);
    expect(pool.inUse).toBe(0);
    pool.share(a);
    pool.share(a);
    expect(pool.inUse).toBe(1);
    expect(pool.cachedFree).toBe(0);
    pool.release([a]);
    expect(pool.inUse, 'still held by the second sharer').toBe(1);
    pool.release([a]);
    expect(pool.cachedFree).toBe(1);
    expect(() => pool.release([a]), 'releasing a free block is an error').toThrow(/not held/);
  });

  it('a block with the same prefix as a cached one stays uncached and shares its serial', () => {
    const pool = new BlockPool(3);
    const [a, b] = pool.allocate(2)!;
    const serial = pool.cache(a, prefixKey(0, [1, 2]));
    expect(pool.cache(b, prefixKey(0, [1, 2]))).toBe(serial);
    pool.release([a, b]);
    expect(pool.cachedFree).toBe(1);
    expect(pool.lookup(prefixKey(0, [1, 2]))).toBe(a);
  });

  it('capacity changes only while nothing is held, forgetting every cached prefix', () => {
    const pool = new BlockPool(2);
    const [a] = pool.allocate(1)!;
    expect(() => pool.setCapacity(8)).toThrow(/held/);
    pool.cache(a, prefixKey(0, [5]));
    pool.release([a]);
    pool.setCapacity(8);
    expect(pool.capacity).toBe(8);
    expect(pool.lookup(prefixKey(0, [5]))).toBeUndefined();
    expect(() => new BlockPool(0)).toThrow(/capacity/);
  });
});

describe('LatentCacheManager', () => {
  const BS = 4;

  /** A sequence of `tokens` opened, computed whole (every full block registered) and closed. */
  function runOnce(m: LatentCacheManager, tokens: number[]): void {
    const opened = m.open(tokens, tokens.length)!;
    m.commit(opened.seq, tokens, tokens.length);
    m.close(opened.seq);
  }

  it('a second sequence with the same prompt shares its full blocks, leaving the last token to compute', () => {
    const m = new LatentCacheManager(new BlockPool(32), BS);
    const prompt = range(100, 113); // 13 tokens: 3 full blocks and 1 token
    runOnce(m, prompt);
    const again = m.open(prompt, prompt.length)!;
    expect(again.cachedTokens).toBe(12);
    expect(again.seq.table.length, 'blocks for all 13 positions').toBe(4);
    m.close(again.seq);
    // A prompt of exactly 3 blocks: its last block is recomputed (the last token needs logits).
    const whole = m.open(range(100, 112), 12)!;
    expect(whole.cachedTokens).toBe(8);
    m.close(whole.seq);
    expect(m.pool.inUse).toBe(0);
  });

  it('a shared prefix that diverges mid-block hits only the blocks before it; a different start misses', () => {
    const m = new LatentCacheManager(new BlockPool(32), BS);
    runOnce(m, range(0, 16));
    const diverged = [...range(0, 6), 99, ...range(7, 16)];
    expect(m.open(diverged, 1)!.cachedTokens, 'block 1 differs at position 6').toBe(4);
    expect(m.open([7, ...range(1, 16)], 1)!.cachedTokens, 'the first block differs').toBe(0);
  });

  it('the same tokens after a different prefix are a different block', () => {
    const m = new LatentCacheManager(new BlockPool(32), BS);
    runOnce(m, [1, 1, 1, 1, 5, 6, 7, 8, 0]);
    expect(m.open([2, 2, 2, 2, 5, 6, 7, 8, 0], 1)!.cachedTokens).toBe(0);
  });

  it('under a tiny budget the least recently used prefix is evicted; a prefix whose middle block was evicted hits up to it', () => {
    const pool = new BlockPool(6);
    const m = new LatentCacheManager(pool, BS);
    const a = range(0, 13); // blocks A0 A1 A2 + 1 token
    runOnce(m, a);
    expect(pool.cachedFree).toBe(3);
    // A fresh 5-block sequence needs 5 blocks: 3 fresh ids, then evicts A's blocks from its tail (A2, A1).
    const other = m.open(range(50, 70), 20)!;
    expect(other.cachedTokens).toBe(0);
    expect(pool.cachedFree, 'only A0 remains cached').toBe(1);
    m.close(other.seq);
    expect(m.open(a, 1)!.cachedTokens, 'A0 hits, A1 was evicted').toBe(4);
  });

  it('evicting the middle of a cached chain orphans its children: a later prefix match stops at the gap and recomputes', () => {
    const pool = new BlockPool(8);
    const m = new LatentCacheManager(pool, BS);
    const a = range(0, 17); // A0..A3 + 1
    const opened = m.open(a, a.length)!;
    m.commit(opened.seq, a, a.length);
    // Release A1 first so it is the oldest evictable block, then the rest.
    const [b0, b1, b2, b3, b4] = opened.seq.table;
    pool.release([b1, b3, b2, b0, b4]);
    const taker = pool.allocate(4)!; // 3 unminted ids + the plain block b4
    expect(taker).not.toContain(b1);
    const evictor = pool.allocate(1)!;
    expect(evictor, 'the oldest cached block goes first').toEqual([b1]);
    pool.release([...taker, ...evictor]);
    const again = m.open(a, a.length)!;
    expect(again.cachedTokens, 'A0 hits; A1 is gone, so A2 and A3 cannot be reached').toBe(4);
    m.commit(again.seq, a, a.length);
    expect(pool.lookup(prefixKey(pool.serialOf(again.seq.table[0])!, a.slice(4, 8))), 'the recomputed A1 is cached again').toBe(again.seq.table[1]);
  });

  it('open fails cleanly when the pool is short, holding nothing', () => {
    const pool = new BlockPool(3);
    const m = new LatentCacheManager(pool, BS);
    runOnce(m, range(0, 9)); // 2 full blocks cached
    expect(m.open(range(0, 30), 30), '8 blocks needed, 3 exist').toBeNull();
    expect(pool.inUse).toBe(0);
    expect(pool.cachedFree, 'the prefix stays cached').toBe(2);
  });

  it('grow adds blocks a position at a time and never takes part of a request', () => {
    const pool = new BlockPool(3);
    const m = new LatentCacheManager(pool, BS);
    const opened = m.open([1, 2, 3], 3)!;
    expect(opened.seq.table.length).toBe(1);
    expect(m.grow(opened.seq, 4)).toBe(true);
    expect(opened.seq.table.length).toBe(1);
    expect(m.grow(opened.seq, 5)).toBe(true);
    expect(opened.seq.table.length).toBe(2);
    expect(m.canGrow(opened.seq, 13)).toBe(false);
    expect(m.grow(opened.seq, 13)).toBe(false);
    expect(opened.seq.table.length).toBe(2);
    expect(pool.inUse).toBe(2);
  });
});
