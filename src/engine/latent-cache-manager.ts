// Maps each sequence's positions to latent-cache blocks (vLLM v1's
// kv_cache_manager.py): block tables that grow a block at a time as tokens
// arrive, prompt prefixes found among the cached blocks and shared
// (refcounted in the BlockPool), full blocks registered as cached prefix
// blocks once computed, and everything released when a sequence ends. It
// never decides who runs; the scheduler asks it whether blocks are there.
import { BlockPool, prefixKey } from './block-pool.ts';

/** A sequence's blocks: position p lives in block table[⌊p / blockSize⌋]. */
export interface SequenceBlocks {
  readonly table: number[];
  /** Leading blocks of the table registered (or found) as cached prefix blocks. */
  registered: number;
  /** Serial of the last registered block's content (0: none yet). */
  lastSerial: number;
}

export class LatentCacheManager {
  constructor(readonly pool: BlockPool, readonly blockSize: number) {
    if (!(Number.isInteger(blockSize) && blockSize >= 1)) throw new RangeError(`latent cache: block size must be a positive integer, got ${blockSize}`);
  }

  /** Blocks that hold positions [0, positions). */
  blocksFor(positions: number): number {
    return Math.ceil(positions / this.blockSize);
  }

  /**
   * Starts a sequence of `tokens` (a prompt, or a preempted sequence's prompt
   * and output): shares the longest run of cached full blocks at its start —
   * leaving at least its last token to compute, whose logits are needed —
   * and allocates blocks for the next `firstChunk` tokens after it, leaving
   * at least `reserve` blocks available. Returns null, holding nothing, when
   * the pool is short.
   */
  open(tokens: readonly number[], firstChunk: number, reserve = 0): { seq: SequenceBlocks; cachedTokens: number } | null {
    const seq: SequenceBlocks = { table: [], registered: 0, lastSerial: 0 };
    const bs = this.blockSize;
    for (let i = 0; (i + 1) * bs <= tokens.length - 1; i++) {
      const id = this.pool.lookup(prefixKey(seq.lastSerial, tokens.slice(i * bs, (i + 1) * bs)));
      if (id === undefined) break;
      this.pool.share(id);
      seq.table.push(id);
      seq.registered++;
      seq.lastSerial = this.pool.serialOf(id)!;
    }
    const cachedTokens = seq.table.length * bs;
    if (!this.grow(seq, Math.min(tokens.length, cachedTokens + firstChunk), reserve)) {
      this.close(seq);
      return null;
    }
    return { seq, cachedTokens };
  }

  /** Grows the table to hold positions [0, positions), leaving `reserve` blocks available; false, taking nothing, when the pool is short. */
  grow(seq: SequenceBlocks, positions: number, reserve = 0): boolean {
    const needed = this.blocksFor(positions) - seq.table.length;
    if (needed <= 0) return true;
    if (needed + reserve > this.pool.available) return false;
    const blocks = this.pool.allocate(needed);
    if (!blocks) return false;
    seq.table.push(...blocks);
    return true;
  }

  /** Whether growing the table to `positions` would find enough blocks. */
  canGrow(seq: SequenceBlocks, positions: number): boolean {
    return this.blocksFor(positions) - seq.table.length <= this.pool.available;
  }

  /**
   * Registers the sequence's full blocks whose positions are all computed
   * (< computed) as cached prefix blocks; `tokens` are the sequence's tokens
   * (at least `computed` of them).
   */
  commit(seq: SequenceBlocks, tokens: readonly number[], computed: number): void {
    const bs = this.blockSize;
    while ((seq.registered + 1) * bs <= computed) {
      const i = seq.registered;
      seq.lastSerial = this.pool.cache(seq.table[i], prefixKey(seq.lastSerial, tokens.slice(i * bs, (i + 1) * bs)));
      seq.registered++;
    }
  }

  /** Releases every block of the sequence, its last block first (a prefix's tail is evicted before its head). */
  close(seq: SequenceBlocks): void {
    this.pool.release([...seq.table].reverse());
    seq.table.length = 0;
    seq.registered = 0;
    seq.lastSerial = 0;
  }
}
