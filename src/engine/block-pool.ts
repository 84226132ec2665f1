// The latent-cache blocks and who holds them (vLLM v1's block_pool.py): block
// ids, reference counts, the free blocks, and the full blocks that hold a
// known token prefix (prefix caching). Pure bookkeeping — the memory itself
// is the backend's LatentCache, grown by the runner as ids are first used.
//
// A free block either holds nothing worth keeping (reused first) or a cached
// prefix block (kept in least-recently-freed order and evicted from the front
// only when no other block is left). Ids are minted lazily up to `capacity`,
// so a quiet engine never touches memory it does not need.
//
// Cached blocks are found by their prefix key: the identity of the parent
// block's content (a serial number, never reused) and the block's own tokens.
// A key therefore names one exact token prefix — the chain of vLLM's block
// hashes, without the chance of a collision.

/** The key of a full block whose parent block's content has serial `parent` (0: the start of a sequence). */
export function prefixKey(parent: number, tokens: ArrayLike<number>): string {
  return `${parent}:${Array.prototype.join.call(tokens, ',')}`;
}

interface CachedContent {
  readonly key: string;
  /** Identity of this content: children's keys name it. */
  readonly serial: number;
}

export class BlockPool {
  private readonly refs: number[] = [];
  /** What a block holds, when it holds a cached prefix block. */
  private readonly content: (CachedContent | undefined)[] = [];
  private readonly byKey = new Map<string, number>();
  /** Free blocks holding nothing cached (a stack). */
  private readonly plain: number[] = [];
  /** Free blocks holding a cached prefix, least recently freed first (insertion order). */
  private readonly evictable = new Map<number, true>();
  private held = 0;
  private nextSerial = 1;
  private _capacity: number;

  constructor(capacity: number) {
    this._capacity = checkCapacity(capacity);
  }

  /** The most blocks that may exist (the cache budget in blocks). */
  get capacity(): number { return this._capacity; }
  /** Ids handed out so far: the backend cache must hold this many blocks. */
  get minted(): number { return this.refs.length; }
  /** Blocks held by at least one sequence. */
  get inUse(): number { return this.held; }
  /** Free blocks that still hold a reusable cached prefix. */
  get cachedFree(): number { return this.evictable.size; }
  /** Blocks a new allocation can get (free ones, evictable ones and ids not minted yet). */
  get available(): number { return this._capacity - this.held; }

  /**
   * Changes the capacity. Only while no block is held: every cached prefix is
   * forgotten, and ids restart at 0 (the memory behind them stays valid).
   */
  setCapacity(capacity: number): void {
    if (this.held > 0) throw new Error(`block pool: cannot change the capacity while ${this.held} blocks are held`);
    this._capacity = checkCapacity(capacity);
    this.refs.length = 0;
    this.content.length = 0;
    this.byKey.clear();
    this.plain.length = 0;
    this.evictable.clear();
  }

  /** `n` blocks for one holder (reference count 1), or null when fewer are available (nothing is taken). */
  allocate(n: number): number[] | null {
    if (n > this.available) return null;
    const out: number[] = [];
    while (out.length < n) {
      let id = this.plain.pop();
      if (id === undefined && this.refs.length < this._capacity) {
        id = this.refs.length;
        this.refs.push(0);
        this.content.push(undefined);
      }
      if (id === undefined) {
        id = this.evictable.keys().next().value as number;
        this.evictable.delete(id);
        this.forget(id);
      }
      this.refs[id] = 1;
      this.held++;
      out.push(id);
    }
    return out;
  }

  /** The cached block holding the prefix block `key`, if any (not taken: see share). */
  lookup(key: string): number | undefined {
    return this.byKey.get(key);
  }

  /** Serial of the cached content of block `id` (children's keys use it), or undefined. */
  serialOf(id: number): number | undefined {
    return this.content[id]?.serial;
  }

  /** One more holder for a cached block (a prefix hit). */
  share(id: number): void {
    if (this.refs[id] === 0) {
      this.evictable.delete(id);
      this.held++;
    }
    this.refs[id]++;
  }

  /** Releases one hold on each block, in order: the first freed is the first evicted. */
  release(ids: readonly number[]): void {
    for (const id of ids) {
      if (!(this.refs[id] > 0)) throw new Error(`block pool: release of block ${id}, which is not held`);
      if (--this.refs[id] > 0) continue;
      this.held--;
      if (this.content[id]) this.evictable.set(id, true);
      else this.plain.push(id);
    }
  }

  /**
   * Registers held block `id` as the full block `key` and returns its serial
   * (for its children's keys). When another block already holds `key`, `id`
   * stays uncached and that block's serial is returned: both hold the same rows.
   */
  cache(id: number, key: string): number {
    const existing = this.byKey.get(key);
    if (existing !== undefined) return this.content[existing]!.serial;
    if (this.content[id]) throw new Error(`block pool: block ${id} already holds cached prefix ${this.content[id]!.key}`);
    const serial = this.nextSerial++;
    this.content[id] = { key, serial };
    this.byKey.set(key, id);
    return serial;
  }

  private forget(id: number): void {
    const held = this.content[id];
    if (!held) return;
    this.byKey.delete(held.key);
    this.content[id] = undefined;
  }
}

function checkCapacity(capacity: number): number {
  if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`block pool: capacity must be a positive integer number of blocks, got ${capacity}`);
  return capacity;
}
