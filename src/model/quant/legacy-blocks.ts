// ggml's 32-element blocks (ggml-common.h), decoded with the f32 arithmetic of
// ggml-quants.c's dequantize_row_* and quantized by quantizers of our own
// (Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 follow ggml's quantize_row_*_ref; IQ4_NL fits its
// scale by least squares). Layouts, bytes per block:
//   Q8_0   34  f16 d, 32 × i8 q                      x = q·d
//   Q4_0   18  f16 d, 16 bytes: element j < 16 in the low nibble of byte j, j + 16 in its high
//                                                     x = (q − 8)·d
//   Q4_1   20  f16 d, f16 m, nibbles as Q4_0          x = q·d + m
//   Q5_0   22  f16 d, u32 qh (bit j = 5th bit of element j), nibbles as Q4_0
//                                                     x = (q − 16)·d
//   Q5_1   24  f16 d, f16 m, qh, nibbles as Q5_0      x = q·d + m
//   IQ4_NL 18  f16 d, nibbles as Q4_0 indexing IQ4_NL_VALUES   x = d·v[q]
import { readHalf, roundToF16, writeHalf } from '../half.ts';

const QK = 32;
const f = Math.fround;

/** ggml's kvalues_iq4nl: the non-linear 4-bit codebook of IQ4_NL and IQ4_XS. */
export const IQ4_NL_VALUES: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

/** Block decoder: the block at byte `at` of `bytes` → out[o .. o + block size). */
export type BlockDecoder = (bytes: Uint8Array, at: number, out: Float32Array, o: number) => void;

export const decodeQ8_0: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at);
  for (let j = 0; j < QK; j++) out[o + j] = f(((bytes[at + 2 + j] << 24) >> 24) * d);
};

export const decodeQ4_0: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at);
  for (let j = 0; j < 16; j++) {
    const q = bytes[at + 2 + j];
    out[o + j] = f(((q & 0x0f) - 8) * d);
    out[o + j + 16] = f(((q >> 4) - 8) * d);
  }
};

export const decodeQ4_1: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at);
  const m = readHalf(bytes, at + 2);
  for (let j = 0; j < 16; j++) {
    const q = bytes[at + 4 + j];
    out[o + j] = f(f((q & 0x0f) * d) + m);
    out[o + j + 16] = f(f((q >> 4) * d) + m);
  }
};

function fifthBits(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

export const decodeQ5_0: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at);
  const qh = fifthBits(bytes, at + 2);
  for (let j = 0; j < 16; j++) {
    const q = bytes[at + 6 + j];
    out[o + j] = f((((q & 0x0f) | (((qh >>> j) & 1) << 4)) - 16) * d);
    out[o + j + 16] = f((((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d);
  }
};

export const decodeQ5_1: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at);
  const m = readHalf(bytes, at + 2);
  const qh = fifthBits(bytes, at + 4);
  for (let j = 0; j < 16; j++) {
    const q = bytes[at + 8 + j];
    out[o + j] = f(f(((q & 0x0f) | (((qh >>> j) & 1) << 4)) * d) + m);
    out[o + j + 16] = f(f(((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d) + m);
  }
};

export const decodeIq4Nl: BlockDecoder = (bytes, at, out, o) => {
  const d = readHalf(bytes, at);
  for (let j = 0; j < 16; j++) {
    const q = bytes[at + 2 + j];
    out[o + j] = f(d * IQ4_NL_VALUES[q & 0x0f]);
    out[o + j + 16] = f(d * IQ4_NL_VALUES[q >> 4]);
  }
};

/** Splits `values` into 32-element blocks of `blockBytes` each, filled by `quantizeBlock`. */
function blockwise(
  name: string, values: Float32Array, blockBytes: number, quantizeBlock: (x: Float32Array, out: Uint8Array, at: number) => void,
): Uint8Array {
  if (values.length % QK !== 0) throw new Error(`${name} needs a multiple of ${QK} values, got ${values.length}`);
  const out = new Uint8Array((values.length / QK) * blockBytes);
  for (let b = 0; b < values.length / QK; b++) quantizeBlock(values.subarray(b * QK, (b + 1) * QK), out, b * blockBytes);
  return out;
}

/** roundf: half away from zero. */
function roundAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** The value of largest magnitude (the first one on ties) and that magnitude. */
function signedMax(x: Float32Array): { max: number; amax: number } {
  let amax = 0;
  let max = 0;
  for (const v of x) if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
  return { max, amax };
}

/** ggml's quantize_row_q8_0_ref: d = amax / 127, q = round(x / d). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  return blockwise('q8_0', values, 34, (x, out, at) => {
    const d = f(signedMax(x).amax / 127);
    const id = d ? f(1 / d) : 0;
    writeHalf(out, at, d);
    for (let j = 0; j < QK; j++) out[at + 2 + j] = roundAway(f(x[j] * id)) & 0xff;
  });
}

/** ggml's quantize_row_q4_0_ref: d = max / −8 (max: the value of largest |x|), q = min(15, ⌊x/d + 8.5⌋). */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  return blockwise('q4_0', values, 18, (x, out, at) => {
    const d = f(signedMax(x).max / -8);
    const id = d ? f(1 / d) : 0;
    writeHalf(out, at, d);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(f(f(x[j] * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(f(f(x[16 + j] * id) + 8.5)));
      out[at + 2 + j] = q0 | (q1 << 4);
    }
  });
}

/** Q4_1/Q5_1 (ggml's quantize_row_q4_1_ref / q5_1_ref): d = (max − min)/(2^bits − 1), m = min, q = round((x − m)/d). */
function quantizeAffine(name: string, values: Float32Array, bits: 4 | 5): Uint8Array {
  const nmax = (1 << bits) - 1;
  const qsAt = bits === 4 ? 4 : 8;
  return blockwise(name, values, bits === 4 ? 20 : 24, (x, out, at) => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of x) { min = Math.min(min, v); max = Math.max(max, v); }
    const d = f((max - min) / nmax);
    const id = d ? f(1 / d) : 0;
    writeHalf(out, at, d);
    writeHalf(out, at + 2, min);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(nmax, Math.trunc(f(f(f(x[j] - min) * id) + 0.5)));
      const q1 = Math.min(nmax, Math.trunc(f(f(f(x[16 + j] - min) * id) + 0.5)));
      out[at + qsAt + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + 16));
    }
    if (bits === 5) new DataView(out.buffer, out.byteOffset).setUint32(at + 4, qh >>> 0, true);
  });
}

export const quantizeQ4_1 = (values: Float32Array): Uint8Array => quantizeAffine('q4_1', values, 4);
export const quantizeQ5_1 = (values: Float32Array): Uint8Array => quantizeAffine('q5_1', values, 5);

/** ggml's quantize_row_q5_0_ref: d = max / −16, q = min(31, ⌊x/d + 16.5⌋). */
export function quantizeQ5_0(values: Float32Array): Uint8Array {
  return blockwise('q5_0', values, 22, (x, out, at) => {
    const d = f(signedMax(x).max / -16);
    const id = d ? f(1 / d) : 0;
    writeHalf(out, at, d);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(31, Math.trunc(f(f(x[j] * id) + 16.5)));
      const q1 = Math.min(31, Math.trunc(f(f(x[16 + j] * id) + 16.5)));
      out[at + 6 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + 16));
    }
    new DataView(out.buffer, out.byteOffset).setUint32(at + 2, qh >>> 0, true);
  });
}

/** Index of the IQ4_NL codebook value nearest to v. */
export function nearestIq4(v: number): number {
  let best = 0;
  for (let i = 1; i < 16; i++) if (Math.abs(IQ4_NL_VALUES[i] - v) < Math.abs(IQ4_NL_VALUES[best] - v)) best = i;
  return best;
}

/**
 * The IQ4_NL scale of x (n values): start from max/−127 (the largest
 * magnitude on the codebook's end), pick each value's nearest codebook entry,
 * then refit the scale by least squares over those entries.
 */
export function fitIq4Scale(x: Float32Array): number {
  const { max, amax } = signedMax(x);
  if (amax === 0) return 0;
  const d0 = max / IQ4_NL_VALUES[0];
  let num = 0;
  let den = 0;
  for (const v of x) {
    const q = IQ4_NL_VALUES[nearestIq4(v / d0)];
    num += q * v;
    den += q * q;
  }
  return den > 0 ? num / den : d0;
}

export function quantizeIq4Nl(values: Float32Array): Uint8Array {
  return blockwise('iq4_nl', values, 18, (x, out, at) => {
    const d = roundToF16(fitIq4Scale(x));
    writeHalf(out, at, d);
    const id = d ? 1 / d : 0;
    for (let j = 0; j < 16; j++) out[at + 2 + j] = nearestIq4(x[j] * id) | (nearestIq4(x[16 + j] * id) << 4);
  });
}
