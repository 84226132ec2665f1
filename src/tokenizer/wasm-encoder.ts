// The byte-level BPE encoder over its own instance of the Wasm module
// (assembly/tokenizer). Tables (character classes, byte ids, merges, word
// cache) are written once at creation; scratch for the text grows only when a
// longer text arrives, so steady-state encoding never grows Wasm memory.
import { instantiateKernels, type WasmInstance } from '../backend/cpu/wasm-instance.ts';
import type { ClassTable } from './unicode-classes.ts';

interface TokenizerExports {
  readonly memory: WebAssembly.Memory;
  tok_build_merges(ctx: number, triples: number, n: number): void;
  tok_encode(ctx: number, len: number, wtf8: number): number;
  tok_encode_pieces(ctx: number, pieces: number): number;
}

// Field offsets of the context block (assembly/tokenizer/context.ts).
const CTX = {
  classIndex: 0, classBlocks: 4, byteIds: 8, merges: 12, mergeMask: 16, cache: 20, cacheMask: 24, pattern: 28,
  input: 32, flags: 36, cuts: 40, offsets: 44, output: 48, symbols: 52, capacity: 56,
} as const;
const CTX_BYTES = 64;
const CACHE_ENTRY_BYTES = 128;
const CACHE_ENTRIES = 8192;
const MIN_CAPACITY = 16384;
/** Strings up to this many UTF-16 units are written straight into Wasm memory (3 bytes per unit at most). */
const DIRECT_UNITS = 1 << 16;

export interface EncoderTables {
  /** u32[256]: the token of each byte. */
  readonly byteIds: Uint32Array;
  /** u32 {left, right, result} per merge, in rank order. */
  readonly merges: Uint32Array;
  /** PATTERN_* for a native pre-tokenizer, 0 when the caller splits pieces itself. */
  readonly pattern: number;
  readonly classes?: ClassTable;
}

const utf8 = new TextEncoder();

/** WTF-8: UTF-8 that keeps lone surrogates as ED A0..BF xx (the Wasm side classifies them, then writes U+FFFD). */
export function encodeWtf8(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
    }
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) { out[n++] = 0xc0 | (c >> 6); out[n++] = 0x80 | (c & 63); }
    else if (c < 0x10000) { out[n++] = 0xe0 | (c >> 12); out[n++] = 0x80 | ((c >> 6) & 63); out[n++] = 0x80 | (c & 63); }
    else {
      out[n++] = 0xf0 | (c >> 18); out[n++] = 0x80 | ((c >> 12) & 63);
      out[n++] = 0x80 | ((c >> 6) & 63); out[n++] = 0x80 | (c & 63);
    }
  }
  return out.subarray(0, n);
}

const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

export class WasmBpeEncoder {
  private readonly exports: TokenizerExports;
  private readonly ctx: number;
  private readonly tablePointers: number[] = [];
  private readonly cache: number;
  private scratch = 0;
  private capacity = 0;
  private input = 0;
  private output = 0;
  private offsets = 0;
  private u8view = new Uint8Array(0);

  private constructor(private readonly wasm: WasmInstance, tables: EncoderTables) {
    this.exports = wasm.exports as unknown as TokenizerExports;
    this.ctx = this.table(CTX_BYTES);
    this.setField(CTX.pattern, tables.pattern);
    if (tables.classes) {
      this.setField(CTX.classIndex, this.upload(new Uint8Array(tables.classes.index.buffer, tables.classes.index.byteOffset, tables.classes.index.byteLength)));
      this.setField(CTX.classBlocks, this.upload(new Uint8Array(tables.classes.blocks.buffer, tables.classes.blocks.byteOffset, tables.classes.blocks.byteLength)));
    }
    this.setField(CTX.byteIds, this.upload(new Uint8Array(tables.byteIds.buffer, tables.byteIds.byteOffset, 1024)));
    const mergeCount = tables.merges.length / 3;
    let slots = 16;
    while (slots < mergeCount * 2) slots *= 2;
    const mergeTable = this.table(slots * 16);
    this.u8().fill(0xff, mergeTable, mergeTable + slots * 16);
    this.setField(CTX.merges, mergeTable);
    this.setField(CTX.mergeMask, slots - 1);
    this.cache = this.table(CACHE_ENTRIES * CACHE_ENTRY_BYTES);
    this.clearCache();
    this.setField(CTX.cache, this.cache);
    this.setField(CTX.cacheMask, CACHE_ENTRIES - 1);
    const triples = wasm.heap.alloc(Math.max(tables.merges.byteLength, 1));
    this.u8().set(new Uint8Array(tables.merges.buffer, tables.merges.byteOffset, tables.merges.byteLength), triples);
    this.exports.tok_build_merges(this.ctx, triples, mergeCount);
    wasm.heap.release(triples);
    this.reserve(MIN_CAPACITY);
  }

  static async create(module: WebAssembly.Module, tables: EncoderTables): Promise<WasmBpeEncoder> {
    return new WasmBpeEncoder(await instantiateKernels(module), tables);
  }

  /** The instance's memory (tests watch it for growth). */
  get memory(): WebAssembly.Memory { return this.exports.memory; }

  /** Empties the word cache (benchmarks of a cold start). */
  clearCache(): void {
    this.u8().fill(0, this.cache, this.cache + CACHE_ENTRIES * CACHE_ENTRY_BYTES);
  }

  /** Appends the ids of `text` (natively pre-tokenized) to out. */
  encodeString(text: string, out: number[]): void {
    if (text.length === 0) return;
    const wellFormed = isWellFormed(text);
    if (wellFormed && text.length <= DIRECT_UNITS) {
      this.reserve(text.length * 3);
      const { written } = utf8.encodeInto(text, this.u8().subarray(this.input, this.input + this.capacity));
      this.collect(this.exports.tok_encode(this.ctx, written, 1), out);
      return;
    }
    this.encodeBytesNative(wellFormed ? utf8.encode(text) : encodeWtf8(text), true, out);
  }

  /** Appends the ids of raw bytes (invalid UTF-8 allowed) to out. */
  encodeBytes(bytes: Uint8Array, out: number[]): void {
    if (bytes.length > 0) this.encodeBytesNative(bytes, false, out);
  }

  /** Appends the ids of pieces the caller pre-tokenized (the RegExp path) to out. */
  encodePieces(pieces: readonly Uint8Array[], out: number[]): void {
    let total = 0;
    for (const piece of pieces) total += piece.length;
    this.reserve(Math.max(total, pieces.length));
    const u8 = this.u8();
    const offsets = new Uint32Array(this.exports.memory.buffer, this.offsets, pieces.length + 1);
    let at = 0;
    pieces.forEach((piece, k) => { offsets[k] = at; u8.set(piece, this.input + at); at += piece.length; });
    offsets[pieces.length] = at;
    this.collect(this.exports.tok_encode_pieces(this.ctx, pieces.length), out);
  }

  dispose(): void {
    if (this.scratch) this.wasm.heap.release(this.scratch);
    for (const ptr of this.tablePointers) this.wasm.heap.release(ptr);
    this.tablePointers.length = 0;
    this.scratch = 0;
  }

  private encodeBytesNative(bytes: Uint8Array, wtf8: boolean, out: number[]): void {
    this.reserve(bytes.length);
    this.u8().set(bytes, this.input);
    this.collect(this.exports.tok_encode(this.ctx, bytes.length, wtf8 ? 1 : 0), out);
  }

  private collect(count: number, out: number[]): void {
    const ids = new Uint32Array(this.exports.memory.buffer, this.output, count);
    for (let i = 0; i < count; i++) out.push(ids[i]);
  }

  private u8(): Uint8Array {
    if (this.u8view.buffer !== this.exports.memory.buffer) this.u8view = new Uint8Array(this.exports.memory.buffer);
    return this.u8view;
  }

  private setField(offset: number, value: number): void {
    new Uint32Array(this.exports.memory.buffer, this.ctx + offset, 1)[0] = value;
  }

  private table(bytes: number): number {
    const ptr = this.wasm.heap.alloc(bytes);
    this.tablePointers.push(ptr);
    return ptr;
  }

  private upload(bytes: Uint8Array): number {
    const ptr = this.table(bytes.length);
    this.u8().set(bytes, ptr);
    return ptr;
  }

  /** Scratch for `bytes` of text: input, u16 flags, cuts, u32 offsets, u32 ids, BPE symbols (16 bytes) and merge heap (24 bytes) per byte. */
  private reserve(bytes: number): void {
    if (bytes <= this.capacity) return;
    const capacity = Math.max(MIN_CAPACITY, bytes, this.capacity * 2);
    if (this.scratch) this.wasm.heap.release(this.scratch);
    const sizes = [capacity + 16, 2 * capacity + 32, capacity + 32, 4 * capacity + 32, 4 * capacity + 32, 40 * capacity + 64];
    const aligned = sizes.map((s) => Math.ceil(s / 64) * 64);
    this.scratch = this.wasm.heap.alloc(aligned.reduce((a, b) => a + b, 0));
    const fields = [CTX.input, CTX.flags, CTX.cuts, CTX.offsets, CTX.output, CTX.symbols];
    let at = this.scratch;
    fields.forEach((field, i) => { this.setField(field, at); at += aligned[i]; });
    this.setField(CTX.capacity, capacity);
    this.capacity = capacity;
    this.input = this.scratch;
    this.offsets = this.scratch + aligned[0] + aligned[1] + aligned[2];
    this.output = this.offsets + aligned[3];
  }
}
