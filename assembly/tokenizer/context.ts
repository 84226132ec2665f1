// The tokenizer context: a block of u32 fields the TypeScript side fills
// (src/tokenizer/wasm-encoder.ts mirrors these offsets). Every table and
// scratch buffer lives in memory the TypeScript heap allocated; this code
// only reads and writes through these pointers.

export const CTX_CLASS_INDEX: u32 = 0;  // u16[0x1100]: class block of each 256 code points
export const CTX_CLASS_BLOCKS: u32 = 4; // u16[blocks][256]: class flags per code point
export const CTX_BYTE_IDS: u32 = 8;     // u32[256]: the token of each single byte
export const CTX_MERGES: u32 = 12;      // merge slots {left, right, rank, result} u32 each
export const CTX_MERGE_MASK: u32 = 16;  // slot count − 1 (a power of two minus one)
export const CTX_CACHE: u32 = 20;       // word cache, CACHE_ENTRY bytes per entry
export const CTX_CACHE_MASK: u32 = 24;  // entry count − 1
export const CTX_PATTERN: u32 = 28;     // PATTERN_*: which pre-tokenizer sequence
export const CTX_INPUT: u32 = 32;       // u8[capacity + 16]: the text
export const CTX_FLAGS: u32 = 36;       // u16[capacity]: class flags per code point
export const CTX_CUTS: u32 = 40;        // u8[capacity + 16]: 1 where a piece starts
export const CTX_OFFSETS: u32 = 44;     // u32[capacity + 4]: byte offset of each code point
export const CTX_OUTPUT: u32 = 48;      // u32[capacity]: token ids
export const CTX_SYMBOLS: u32 = 52;     // BPE symbols (16 bytes) then merge heap (24) per input byte
export const CTX_CAPACITY: u32 = 56;    // bytes of text the scratch holds

export const PATTERN_DEEPSEEK_LLM: u32 = 1;
export const PATTERN_DEEPSEEK_V3: u32 = 2;

// Class flags (src/tokenizer/unicode-classes.ts computes them per code point).
export const F_WS: u16 = 1;        // \p{White_Space} (HF rewrites onig's \s to it)
export const F_CRLF: u16 = 2;      // [\r\n]
export const F_L: u16 = 4;         // \p{L}
export const F_M: u16 = 8;         // \p{M}
export const F_N: u16 = 16;        // \p{N}
export const F_P: u16 = 32;        // \p{P}
export const F_S: u16 = 64;        // \p{S}
export const F_APUNCT: u16 = 128;  // V3: [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]
export const F_ALPHA: u16 = 256;   // [A-Za-z]
export const F_SPACE: u16 = 512;   // U+0020
export const F_CLASS_A: u16 = 1024; // the pattern's own classes: LLM letters / V3 CJK+kana
export const F_CLASS_B: u16 = 2048; // LLM punctuation
export const F_CLASS_C: u16 = 4096; // LLM CJK + Hangul

@inline export function field(ctx: usize, offset: u32): usize {
  return <usize>load<u32>(ctx + offset);
}
