// ggml's 256-element super-blocks (ggml-common.h "K-quants" and IQ4_XS),
// decoded with the f32 arithmetic of ggml-quants.c's dequantize_row_*.
// Layouts, bytes per block (offsets in bytes):
//   Q2_K  84  scales[16] @0 (low nibble: scale, high: min of each 16 values),
//             qs[64] @16 (2-bit), f16 d @80, f16 dmin @82
//             x = d·sc·q − dmin·m
//   Q3_K 110  hmask[32] @0 (3rd bit), qs[64] @32 (low 2 bits), scales[12] @96
//             (16 six-bit scales, see q3kScale), f16 d @108
//             x = d·(sc − 32)·(q − 4)
//   Q4_K 144  f16 d @0, f16 dmin @2, scales[12] @4 (8 six-bit scale/min pairs,
//             see scaleMinK4), qs[128] @16     x = d·sc·q − dmin·m
//   Q5_K 176  as Q4_K, then qh[32] @16 (5th bits), qs[128] @48
//   Q6_K 210  ql[128] @0 (low 4 bits), qh[64] @128 (high 2 bits), i8 scales[16]
//             @192, f16 d @208                 x = d·sc·(q − 32)
//   IQ4_XS 136  f16 d @0, u16 scales_h @2, scales_l[4] @4, qs[128] @8
//             x = d·(ls − 32)·v[q] with v the IQ4_NL codebook
// Element order inside a block follows ggml's loops (see each decoder).
import { readHalf } from '../half.ts';
import { IQ4_NL_VALUES, type BlockDecoder } from './legacy-blocks.ts';

const f = Math.fround;

/**
 * ggml's get_scale_min_k4: the j-th (j < 8) 6-bit scale and min of a Q4_K/Q5_K
 * block from its 12 scale bytes at `at`. Pairs 0..3 are the low 6 bits of
 * bytes j and j + 4; pairs 4..7 take their low 4 bits from byte j + 4's two
 * nibbles and their high 2 bits from the top bits of bytes j − 4 and j.
 */
export function scaleMinK4(bytes: Uint8Array, at: number, j: number): { sc: number; m: number } {
  if (j < 4) return { sc: bytes[at + j] & 63, m: bytes[at + j + 4] & 63 };
  return {
    sc: (bytes[at + j + 4] & 0x0f) | ((bytes[at + j - 4] >> 6) << 4),
    m: (bytes[at + j + 4] >> 4) | ((bytes[at + j] >> 6) << 4),
  };
}

/** The k-th (k < 16) 6-bit scale of a Q3_K block, scale bytes at `at`: low 4 bits from byte k % 8 (k < 8: low nibble, else high), high 2 bits from byte 8 + k % 4 at bit 2·⌊k/4⌋. */
export function q3kScale(bytes: Uint8Array, at: number, k: number): number {
  const low = k < 8 ? bytes[at + k] & 0x0f : bytes[at + k - 8] >> 4;
  return low | (((bytes[at + 8 + (k % 4)] >> (2 * (k >> 2))) & 3) << 4);
}

export const decodeQ2K: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at + 80);
  const dmin = readHalf(bytes, at + 82);
  let is = 0;
  for (let n = 0; n < 2; n++) {
    const q = at + 16 + 32 * n;
    for (let j = 0; j < 4; j++) {
      for (let half = 0; half < 2; half++) {
        const sc = bytes[at + is++];
        const dl = f(d * (sc & 0x0f));
        const ml = f(dmin * (sc >> 4));
        const y = o + 128 * n + 32 * j + 16 * half;
        for (let l = 0; l < 16; l++) out[y + l] = f(f(dl * ((bytes[q + 16 * half + l] >> (2 * j)) & 3)) - ml);
      }
    }
  }
};

export const decodeQ3K: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at + 108);
  let is = 0;
  for (let n = 0; n < 2; n++) {
    const q = at + 32 + 32 * n;
    for (let j = 0; j < 4; j++) {
      const bit = 1 << (4 * n + j);
      for (let half = 0; half < 2; half++) {
        const dl = f(d * (q3kScale(bytes, at + 96, is++) - 32));
        const y = o + 128 * n + 32 * j + 16 * half;
        for (let l = 0; l < 16; l++) {
          const low = (bytes[q + 16 * half + l] >> (2 * j)) & 3;
          out[y + l] = f(dl * (low - (bytes[at + 16 * half + l] & bit ? 0 : 4)));
        }
      }
    }
  }
};

/** Q4_K (five = false) or Q5_K: (d·sc)·q − dmin·m per sub-block, q += 16 where Q5_K's qh bit j is set. */
function decodeQ45K(bytes: Uint8Array, at: number, out: Float32Array, o: number, five: boolean): void {
  const d = readHalf(bytes, at);
  const dmin = readHalf(bytes, at + 2);
  const qs = at + (five ? 48 : 16);
  for (let c = 0; c < 4; c++) {
    const lo = scaleMinK4(bytes, at + 4, 2 * c);
    const hi = scaleMinK4(bytes, at + 4, 2 * c + 1);
    const d1 = f(d * lo.sc), m1 = f(dmin * lo.m);
    const d2 = f(d * hi.sc), m2 = f(dmin * hi.m);
    for (let l = 0; l < 32; l++) {
      const q = bytes[qs + 32 * c + l];
      const h = five ? bytes[at + 16 + l] : 0;
      out[o + 64 * c + l] = f(f(d1 * ((q & 0x0f) + ((h >> (2 * c)) & 1) * 16)) - m1);
      out[o + 64 * c + 32 + l] = f(f(d2 * ((q >> 4) + ((h >> (2 * c + 1)) & 1) * 16)) - m2);
    }
  }
}

export const decodeQ4K: BlockDecoder = (bytes, at, out, o) => decodeQ45K(bytes, at, out, o, false);
export const decodeQ5K: BlockDecoder = (bytes, at, out, o) => decodeQ45K(bytes, at, out, o, true);

export const decodeQ6K: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at + 208);
  for (let n = 0; n < 2; n++) {
    const ql = at + 64 * n;
    const qh = at + 128 + 32 * n;
    const sc = at + 192 + 8 * n;
    for (let l = 0; l < 32; l++) {
      const is = l >> 4;
      const h = bytes[qh + l];
      const q1 = ((bytes[ql + l] & 0x0f) | ((h & 3) << 4)) - 32;
      const q2 = ((bytes[ql + l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
      const q3 = ((bytes[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
      const q4 = ((bytes[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
      const y = o + 128 * n + l;
      out[y] = f(f(d * ((bytes[sc + is] << 24) >> 24)) * q1);
      out[y + 32] = f(f(d * ((bytes[sc + is + 2] << 24) >> 24)) * q2);
      out[y + 64] = f(f(d * ((bytes[sc + is + 4] << 24) >> 24)) * q3);
      out[y + 96] = f(f(d * ((bytes[sc + is + 6] << 24) >> 24)) * q4);
    }
  }
};

/** The 6-bit scale of IQ4_XS sub-block ib (< 8): low 4 bits from scales_l, high 2 from scales_h. */
export function iq4xsScale(bytes: Uint8Array, at: number, ib: number): number {
  const scalesH = bytes[at + 2] | (bytes[at + 3] << 8);
  return ((bytes[at + 4 + (ib >> 1)] >> (4 * (ib & 1))) & 0x0f) | (((scalesH >> (2 * ib)) & 3) << 4);
}

export const decodeIq4Xs: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at);
  for (let ib = 0; ib < 8; ib++) {
    const dl = f(d * (iq4xsScale(bytes, at, ib) - 32));
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 8 + 16 * ib + j];
      out[o + 32 * ib + j] = f(dl * IQ4_NL_VALUES[q & 0x0f]);
      out[o + 32 * ib + 16 + j] = f(dl * IQ4_NL_VALUES[q >> 4]);
    }
  }
};
