// One allocator for everything a Wasm instance holds: weights, latent caches,
// activations and kernel scratch. First fit over a free list kept sorted by
// address, with coalescing; the memory grows on demand up to 4 GiB (wasm32).

const PAGE = 65536;
const MAX_BYTES = 4 * 1024 * 1024 * 1024;
export const HEAP_ALIGN = 64;

interface FreeBlock { start: number; size: number }

export class OutOfWasmMemory extends Error {}

export class WasmHeap {
  private readonly free: FreeBlock[] = [];
  private readonly sizes = new Map<number, number>();
  private top: number;
  private used = 0;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.top = align(base);
  }

  /** Bytes currently allocated. */
  get allocatedBytes(): number { return this.used; }

  alloc(bytes: number): number {
    const size = align(Math.max(bytes, 1));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.size < size) continue;
      const ptr = block.start;
      if (block.size === size) this.free.splice(i, 1);
      else { block.start += size; block.size -= size; }
      return this.record(ptr, size);
    }
    const ptr = this.top;
    if (ptr + size > MAX_BYTES) {
      throw new OutOfWasmMemory(`Wasm heap: cannot allocate ${bytes} bytes (${ptr} in use of a 4 GiB memory)`);
    }
    this.top += size;
    const needed = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) {
      try { this.memory.grow(needed); } catch (cause) {
        this.top -= size;
        throw new OutOfWasmMemory(`Wasm heap: growing memory to ${this.top + size} bytes failed`, { cause });
      }
    }
    return this.record(ptr, size);
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`Wasm heap: release of ${ptr}, which is not allocated`);
    this.sizes.delete(ptr);
    this.used -= size;
    if (ptr + size === this.top) {
      this.top = ptr;
      const last = this.free[this.free.length - 1];
      if (last && last.start + last.size === this.top) { this.top = last.start; this.free.pop(); }
      return;
    }
    let i = 0;
    while (i < this.free.length && this.free[i].start < ptr) i++;
    this.free.splice(i, 0, { start: ptr, size });
    const next = this.free[i + 1];
    if (next && ptr + size === next.start) { this.free[i].size += next.size; this.free.splice(i + 1, 1); }
    const prev = this.free[i - 1];
    if (prev && prev.start + prev.size === ptr) { prev.size += this.free[i].size; this.free.splice(i, 1); }
  }

  private record(ptr: number, size: number): number {
    this.sizes.set(ptr, size);
    this.used += size;
    return ptr;
  }
}

function align(n: number): number {
  return Math.ceil(n / HEAP_ALIGN) * HEAP_ALIGN;
}
