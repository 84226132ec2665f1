// Exports of assembly/tokenizer (see assembly/index.ts); the TypeScript side
// is src/tokenizer/wasm-encoder.ts. Nothing here allocates: the context block
// (context.ts) points at tables and scratch the TypeScript heap owns.
import { encodePiece, buildMerges } from './bpe';
import { classify } from './classify';
import { CTX_CUTS, CTX_INPUT, CTX_OFFSETS, CTX_OUTPUT, CTX_PATTERN, field } from './context';
import { pretokenize } from './pretokenize';


/** Fills the merge table from u32 {left, right, result} triples, rank = index. */
export function tok_build_merges(ctx: usize, triples: usize, n: u32): void {
  buildMerges(ctx, triples, n);
}

/** Pre-tokenizes and encodes `len` bytes of input; returns the id count
 *  (ids at the output buffer). wtf8: the bytes came from a JS string, where
 *  lone surrogates are encoded as ED A0..BF xx. */
export function tok_encode(ctx: usize, len: u32, wtf8: bool): u32 {
  if (len == 0) return 0;
  const n = classify(ctx, len, wtf8);
  pretokenize(ctx, n, <u32>field(ctx, CTX_PATTERN));
  const input = field(ctx, CTX_INPUT);
  const offsets = field(ctx, CTX_OFFSETS);
  const cuts = field(ctx, CTX_CUTS);
  const out = field(ctx, CTX_OUTPUT);
  let count: u32 = 0;
  let start: u32 = 0;
  for (let i: u32 = 1; i <= n; i++) {
    if (load<u8>(cuts + i) == 0) continue;
    const from = load<u32>(offsets + (<usize>start << 2));
    const to = load<u32>(offsets + (<usize>i << 2));
    count += encodePiece(ctx, input + from, to - from, out + (<usize>count << 2));
    start = i;
  }
  return count;
}

/** Encodes pieces the caller split (the JS RegExp fallback): piece k is the
 *  input bytes [offsets[k], offsets[k + 1]). Returns the id count. */
export function tok_encode_pieces(ctx: usize, pieces: u32): u32 {
  const input = field(ctx, CTX_INPUT);
  const offsets = field(ctx, CTX_OFFSETS);
  const out = field(ctx, CTX_OUTPUT);
  let count: u32 = 0;
  for (let k: u32 = 0; k < pieces; k++) {
    const from = load<u32>(offsets + (<usize>k << 2));
    const to = load<u32>(offsets + (<usize>(k + 1) << 2));
    if (to > from) count += encodePiece(ctx, input + from, to - from, out + (<usize>count << 2));
  }
  return count;
}
