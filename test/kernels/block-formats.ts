// Reference decoders of the ggml block formats for the tests, written element
// by element from ggml-common.h / ggml-quants.c and sharing no code with src/
// or assembly/ (the 6-bit scale unpacking of Q3_K and Q4_K/Q5_K follows
// ggml's kmask word arithmetic, not the byte formulas src/ uses), plus random
// blocks: random quant and scale bytes, with the f16 scales drawn per block
// from moderate values or from the edge cases (zero, ±subnormal, extremes).
import { f64ToHalf, halfToF64, type EncodedWeight } from './half-ref.ts';
import { rng } from '../ops/reference.ts';

const f = Math.fround;
const KVALUES = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

export type BlockDType = 'q4_1' | 'q5_0' | 'q5_1' | 'iq4_nl' | 'q2_k' | 'q3_k' | 'q4_k' | 'q5_k' | 'q6_k' | 'iq4_xs';
export const BLOCK_DTYPES: BlockDType[] = ['q4_1', 'q5_0', 'q5_1', 'iq4_nl', 'q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k', 'iq4_xs'];

interface BlockFormat {
  block: number;
  bytes: number;
  /** Byte offsets of the f16 fields and a moderate magnitude for each (values of order 1). */
  halves: { at: number; unit: number }[];
  /** Element e of the block at b. */
  element(b: Uint8Array, e: number): number;
}

const half = (b: Uint8Array, at: number): number => halfToF64(b[at] | (b[at + 1] << 8));
const u32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const byteOf = (word: number, i: number): number => (word >>> (8 * i)) & 0xff;
/** Element e < 32 of a Q4_0-style nibble array at `at`: byte e % 16, low nibble for e < 16. */
const nibble32 = (b: Uint8Array, at: number, e: number): number => (e < 16 ? b[at + e] & 15 : b[at + e - 16] >> 4);

/** Q4_K/Q5_K scales and mins as ggml's vec_dot unpacks them (utmp words, kmask1..3). */
function kmaskScalesMins(b: Uint8Array, at: number): { scales: number[]; mins: number[] } {
  const u = [u32(b, at), u32(b, at + 4), u32(b, at + 8), 0];
  u[3] = ((u[2] >>> 4) & 0x0f0f0f0f) | (((u[1] >>> 6) & 0x03030303) << 4);
  const uaux = u[1] & 0x3f3f3f3f;
  u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >>> 6) & 0x03030303) << 4);
  u[2] = uaux;
  u[0] &= 0x3f3f3f3f;
  const bytes = (w: number[]) => w.flatMap((x) => [0, 1, 2, 3].map((i) => byteOf(x >>> 0, i)));
  return { scales: bytes([u[0], u[1]]), mins: bytes([u[2], u[3]]) };
}

/** Q3_K's 16 scales (minus 32) as ggml's dequantize_row_q3_K unpacks them (aux words, kmask1/2). */
function q3kScales(b: Uint8Array, at: number): number[] {
  const aux = [u32(b, at), u32(b, at + 4), u32(b, at + 8), 0];
  const tmp = aux[2];
  aux[2] = ((aux[0] >>> 4) & 0x0f0f0f0f) | (((tmp >>> 4) & 0x03030303) << 4);
  aux[3] = ((aux[1] >>> 4) & 0x0f0f0f0f) | (((tmp >>> 6) & 0x03030303) << 4);
  aux[0] = (aux[0] & 0x0f0f0f0f) | (((tmp >>> 0) & 0x03030303) << 4);
  aux[1] = (aux[1] & 0x0f0f0f0f) | (((tmp >>> 2) & 0x03030303) << 4);
  return aux.flatMap((x) => [0, 1, 2, 3].map((i) => ((byteOf(x >>> 0, i) << 24) >> 24) - 32));
}

export const BLOCK_FORMATS: Record<BlockDType, BlockFormat> = {
  q4_1: {
    block: 32, bytes: 20, halves: [{ at: 0, unit: 1 / 16 }, { at: 2, unit: 0.5 }],
    element: (b, e) => f(f(nibble32(b, 4, e) * half(b, 0)) + half(b, 2)),
  },
  q5_0: {
    block: 32, bytes: 22, halves: [{ at: 0, unit: 1 / 16 }],
    element: (b, e) => f(((nibble32(b, 6, e) | (((u32(b, 2) >>> e) & 1) << 4)) - 16) * half(b, 0)),
  },
  q5_1: {
    block: 32, bytes: 24, halves: [{ at: 0, unit: 1 / 32 }, { at: 2, unit: 0.5 }],
    element: (b, e) => f(f((nibble32(b, 8, e) | (((u32(b, 4) >>> e) & 1) << 4)) * half(b, 0)) + half(b, 2)),
  },
  iq4_nl: {
    block: 32, bytes: 18, halves: [{ at: 0, unit: 1 / 128 }],
    element: (b, e) => f(half(b, 0) * KVALUES[nibble32(b, 2, e)]),
  },
  q2_k: {
    block: 256, bytes: 84, halves: [{ at: 80, unit: 1 / 45 }, { at: 82, unit: 1 / 30 }],
    element(b, e) {
      const n = e >> 7, j = (e >> 5) & 3, l = e & 31;
      const q = (b[16 + 32 * n + l] >> (2 * j)) & 3;
      const sc = b[8 * n + 2 * j + (l >> 4)];
      return f(f(f(half(b, 80) * (sc & 15)) * q) - f(half(b, 82) * (sc >> 4)));
    },
  },
  q3_k: {
    block: 256, bytes: 110, halves: [{ at: 108, unit: 1 / 128 }],
    element(b, e) {
      const n = e >> 7, j = (e >> 5) & 3, l = e & 31;
      const low = (b[32 + 32 * n + l] >> (2 * j)) & 3;
      const q = low - ((b[l] >> (4 * n + j)) & 1 ? 0 : 4);
      return f(f(half(b, 108) * q3kScales(b, 96)[8 * n + 2 * j + (l >> 4)]) * q);
    },
  },
  q4_k: {
    block: 256, bytes: 144, halves: [{ at: 0, unit: 1 / 1024 }, { at: 2, unit: 1 / 128 }],
    element(b, e) {
      const j = e >> 5, l = e & 31;
      const byte = b[16 + 32 * (j >> 1) + l];
      const { scales, mins } = kmaskScalesMins(b, 4);
      return f(f(f(half(b, 0) * scales[j]) * (j & 1 ? byte >> 4 : byte & 15)) - f(half(b, 2) * mins[j]));
    },
  },
  q5_k: {
    block: 256, bytes: 176, halves: [{ at: 0, unit: 1 / 2048 }, { at: 2, unit: 1 / 128 }],
    element(b, e) {
      const j = e >> 5, l = e & 31;
      const byte = b[48 + 32 * (j >> 1) + l];
      const q = (j & 1 ? byte >> 4 : byte & 15) + 16 * ((b[16 + l] >> j) & 1);
      const { scales, mins } = kmaskScalesMins(b, 4);
      return f(f(f(half(b, 0) * scales[j]) * q) - f(half(b, 2) * mins[j]));
    },
  },
  q6_k: {
    block: 256, bytes: 210, halves: [{ at: 208, unit: 1 / 4096 }],
    element(b, e) {
      const n = e >> 7, k = (e >> 5) & 3, l = e & 31;
      const low = b[64 * n + 32 * (k & 1) + l];
      const q = ((k < 2 ? low & 15 : low >> 4) | (((b[128 + 32 * n + l] >> (2 * k)) & 3) << 4)) - 32;
      const sc = (b[192 + 8 * n + 2 * k + (l >> 4)] << 24) >> 24;
      return f(f(half(b, 208) * sc) * q);
    },
  },
  iq4_xs: {
    block: 256, bytes: 136, halves: [{ at: 0, unit: 1 / 4096 }],
    element(b, e) {
      const ib = e >> 5, l = e & 31;
      const ls = ((b[4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | ((((b[2] | (b[3] << 8)) >> (2 * ib)) & 3) << 4);
      return f(f(half(b, 0) * (ls - 32)) * KVALUES[nibble32(b, 8 + 16 * ib, l)]);
    },
  },
};

/** The values `count` weights of `dtype` stored in `bytes` mean. */
export function decodeBlocks(dtype: BlockDType, bytes: Uint8Array, count: number): Float64Array {
  const { block, bytes: size, element } = BLOCK_FORMATS[dtype];
  const out = new Float64Array(count);
  for (let blk = 0; blk < count / block; blk++) {
    const b = bytes.subarray(blk * size, (blk + 1) * size);
    for (let e = 0; e < block; e++) out[blk * block + e] = element(b, e);
  }
  return out;
}

/** Half bit patterns of the edge cases: ±0, the smallest and largest subnormals, the smallest normal, ±65504. */
export const EDGE_HALVES = [0x0000, 0x8000, 0x0001, 0x83ff, 0x03ff, 0x0400, 0x7bff, 0xfbff];

/**
 * `count` weights of random blocks. 'moderate': every f16 field a moderate
 * value of either sign (weights of order 1); 'tiny': as moderate, but a third
 * of the blocks with zero and a third with subnormal f16 fields; 'edge': each
 * f16 field an edge case or a moderate value, every third block with its
 * scale bytes all 0xff or all 0x00 (the 6-bit packing's extremes).
 */
export function randomBlocks(dtype: BlockDType, count: number, seed: number, mode: 'moderate' | 'tiny' | 'edge' = 'moderate'): EncodedWeight {
  const fmt = BLOCK_FORMATS[dtype];
  const next = rng(seed);
  const blocks = count / fmt.block;
  const bytes = new Uint8Array(blocks * fmt.bytes);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
  for (let blk = 0; blk < blocks; blk++) {
    const at = blk * fmt.bytes;
    for (const { at: h, unit } of fmt.halves) {
      let bits = f64ToHalf((next() < 0.5 ? -1 : 1) * unit * (0.5 + next()));
      if (mode === 'tiny' && blk % 3 === 1) bits = 1 + Math.floor(next() * 0x3ff); // a subnormal half
      if (mode === 'tiny' && blk % 3 === 2) bits = 0;
      if (mode === 'edge' && next() < 0.6) bits = EDGE_HALVES[Math.floor(next() * EDGE_HALVES.length)];
      bytes[at + h] = bits & 0xff;
      bytes[at + h + 1] = bits >> 8;
    }
    if (mode === 'edge' && blk % 3 !== 0) {
      const scaleBytes = { q2_k: [0, 16], q3_k: [96, 108], q4_k: [4, 16], q5_k: [4, 16], q6_k: [192, 208], iq4_xs: [2, 8] } as Record<string, number[]>;
      const range = scaleBytes[dtype];
      if (range) bytes.fill(blk % 3 === 1 ? 0xff : 0x00, at + range[0], at + range[1]);
    }
  }
  return { bytes, values: decodeBlocks(dtype, bytes, count) };
}
