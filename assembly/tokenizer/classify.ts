// UTF-8 → per-code-point class flags and byte offsets, the input of the
// pre-tokenizer scanners. Runs of ASCII are found 16 bytes at a time with
// v128 (i8x16.bitmask of the high bits); only multi-byte sequences take the
// scalar decoder. Invalid bytes become one "code point" each with no class
// (byte-level BPE still encodes them). In WTF-8 mode (text from a JS string)
// an encoded lone surrogate keeps its own class — HF's regexes see the
// surrogate — and its bytes are rewritten in place to U+FFFD, the bytes
// TextEncoder (and so HF's byte-level step) produces for it.
import {
  CTX_CLASS_BLOCKS, CTX_CLASS_INDEX, CTX_FLAGS, CTX_INPUT, CTX_OFFSETS, field,
} from './context';

@inline function classOf(index: usize, blocks: usize, cp: u32): u16 {
  const block = <usize>load<u16>(index + (<usize>(cp >> 8) << 1));
  return load<u16>(blocks + (block << 9) + (<usize>(cp & 255) << 1));
}

@inline function isCont(b: u32): bool {
  return (b & 0xc0) == 0x80;
}

/** Classifies `len` bytes of input; returns the number of code points. */
export function classify(ctx: usize, len: u32, wtf8: bool): u32 {
  const input = field(ctx, CTX_INPUT);
  const flags = field(ctx, CTX_FLAGS);
  const offsets = field(ctx, CTX_OFFSETS);
  const index = field(ctx, CTX_CLASS_INDEX);
  const blocks = field(ctx, CTX_CLASS_BLOCKS);
  const ascii = blocks + (<usize>load<u16>(index) << 9);
  const lane = i32x4(0, 1, 2, 3);
  let p: u32 = 0;
  let k: u32 = 0;
  while (p < len) {
    let run: u32 = 0;
    if (p + 16 <= len) {
      const mask = <u32>i8x16.bitmask(v128.load(input + p));
      run = mask == 0 ? 16 : ctz<u32>(mask);
    } else {
      while (p + run < len && load<u8>(input + p + run) < 0x80) run++;
    }
    if (run > 0) {
      // ASCII run: offsets p.. as i32x4 lanes, flags from the first class block.
      const o = offsets + (<usize>k << 2);
      let base = i32x4.add(i32x4.splat(p), lane);
      const four = i32x4.splat(4);
      for (let j: u32 = 0; j < run; j += 4) {
        v128.store(o + (<usize>j << 2), base);
        base = i32x4.add(base, four);
      }
      for (let j: u32 = 0; j < run; j++) {
        const b = <usize>load<u8>(input + p + j);
        store<u16>(flags + (<usize>(k + j) << 1), load<u16>(ascii + (b << 1)));
      }
      p += run;
      k += run;
      continue;
    }
    const start = p;
    const b0 = <u32>load<u8>(input + p);
    const b1: u32 = p + 1 < len ? <u32>load<u8>(input + p + 1) : 0;
    const b2: u32 = p + 2 < len ? <u32>load<u8>(input + p + 2) : 0;
    const b3: u32 = p + 3 < len ? <u32>load<u8>(input + p + 3) : 0;
    let cp: u32 = 0;
    let size: u32 = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      if (isCont(b1)) { cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f); size = 2; }
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      const low: u32 = b0 == 0xe0 ? 0xa0 : 0x80;
      const high: u32 = b0 == 0xed && !wtf8 ? 0x9f : 0xbf;
      if (b1 >= low && b1 <= high && isCont(b2)) {
        cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        size = 3;
      }
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      const low: u32 = b0 == 0xf0 ? 0x90 : 0x80;
      const high: u32 = b0 == 0xf4 ? 0x8f : 0xbf;
      if (b1 >= low && b1 <= high && isCont(b2) && isCont(b3)) {
        cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
        size = 4;
      }
    }
    let cls: u16 = 0;
    if (size == 0) {
      size = 1;
    } else {
      cls = classOf(index, blocks, cp);
      if (cp >= 0xd800 && cp <= 0xdfff) {
        store<u8>(input + p, 0xef);
        store<u8>(input + p + 1, 0xbf);
        store<u8>(input + p + 2, 0xbd);
      }
    }
    store<u32>(offsets + (<usize>k << 2), start);
    store<u16>(flags + (<usize>k << 1), cls);
    p += size;
    k++;
  }
  store<u32>(offsets + (<usize>k << 2), len);
  return k;
}
