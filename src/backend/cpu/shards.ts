// Weights larger than one wasm32 memory (4 GiB) live in several instances of
// the same module ("shards"), each with its own memory. Every op runs in the
// shard of its weight (or cache); an activation keeps a copy per shard it has
// been used in and remembers which copies are current, so moving between
// shards costs one copy of the (small) activation, and a single-shard model
// never copies at all.
import type { Activation } from '../backend.ts';
import type { WasmInstance } from './wasm-instance.ts';

export class CpuActivation implements Activation {
  /** Byte offset of this activation's copy in each shard (undefined: none yet). */
  readonly ptrs: (number | undefined)[] = [];
  /** Shards whose copy holds the current values. */
  valid = new Set<number>();
  released = false;

  constructor(readonly rows: number, readonly cols: number) {}

  get byteLength(): number { return this.rows * this.cols * 4; }
}

export class ShardSet {
  constructor(readonly shards: WasmInstance[]) {}

  /** The activation's address in `shard`, with current values copied in when `read`. */
  locate(act: CpuActivation, shard: number, access: 'read' | 'write' | 'readwrite'): number {
    if (act.released) throw new Error('CPU backend: use of a released activation');
    let ptr = act.ptrs[shard];
    if (ptr === undefined) {
      ptr = this.shards[shard].heap.alloc(act.byteLength);
      act.ptrs[shard] = ptr;
    }
    if (access !== 'write' && !act.valid.has(shard) && act.valid.size > 0) {
      const from = act.valid.values().next().value as number;
      const src = this.shards[from].u8().subarray(act.ptrs[from]!, act.ptrs[from]! + act.byteLength);
      this.shards[shard].u8().set(src, ptr);
    }
    if (access === 'read') act.valid.add(shard);
    else act.valid = new Set([shard]);
    return ptr;
  }

  /** A shard where the activation is current (for ops without a weight). */
  home(act: CpuActivation): number {
    const first = act.valid.values().next();
    return first.done ? 0 : first.value;
  }

  release(act: CpuActivation): void {
    act.ptrs.forEach((ptr, shard) => { if (ptr !== undefined) this.shards[shard].heap.release(ptr); });
    act.ptrs.length = 0;
    act.valid.clear();
    act.released = true;
  }
}

/** Per-shard kernel scratch that grows on demand and is reused, so the hot loop does not allocate. */
export class Scratch {
  private readonly buffers: { ptr: number; bytes: number }[][] = [];

  constructor(private readonly shards: WasmInstance[]) {}

  /** `slot` distinguishes buffers needed at the same time within one op. */
  get(shard: number, slot: number, bytes: number): number {
    const perShard = (this.buffers[shard] ??= []);
    const current = perShard[slot];
    if (current && current.bytes >= bytes) return current.ptr;
    const heap = this.shards[shard].heap;
    if (current) heap.release(current.ptr);
    const size = Math.max(bytes, (current?.bytes ?? 0) * 2);
    const ptr = heap.alloc(size);
    perShard[slot] = { ptr, bytes: size };
    return ptr;
  }
}
