// Load-time conversions between weight formats (plain JS: they run once per
// tensor, not per token). Block layouts follow ggml: Q8_0 = f16 d + 32 × i8
// (x ≈ q·d); Q4_0 = f16 d + 16 bytes, element j < 16 in the low nibble of byte
// j and element j + 16 in its high nibble (x ≈ (q − 8)·d).
import type { DType } from '../backend/backend.ts';

const QK = 32;

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Round-to-nearest-even f32 → f16 bits (as numpy's astype(float16)). */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** Decodes `count` elements of `dtype` starting at element `first` into f32. */
export function toF32(dtype: DType, bytes: Uint8Array, count: number, first = 0): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'f32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32((first + i) * 4, true);
      return out;
    case 'f16':
      for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16((first + i) * 2, true));
      return out;
    case 'bf16':
      for (let i = 0; i < count; i++) {
        u32Scratch[0] = view.getUint16((first + i) * 2, true) << 16;
        out[i] = f32Scratch[0];
      }
      return out;
    case 'q8_0':
    case 'q4_0': {
      if (first % QK !== 0 || count % QK !== 0) throw new Error(`${dtype} decode must start and end on a block boundary`);
      const blockBytes = dtype === 'q8_0' ? 34 : 18;
      for (let b = 0; b < count / QK; b++) {
        const at = (first / QK + b) * blockBytes;
        const d = Math.fround(f16ToF32(view.getUint16(at, true)));
        for (let j = 0; j < QK; j++) {
          let q: number;
          if (dtype === 'q8_0') q = view.getInt8(at + 2 + j);
          else q = (j < 16 ? bytes[at + 2 + j] & 0x0f : bytes[at + 2 + j - 16] >> 4) - 8;
          out[b * QK + j] = Math.fround(q * d);
        }
      }
      return out;
    }
  }
}

export function fromF32(dtype: DType, values: Float32Array): Uint8Array {
  switch (dtype) {
    case 'f32': return new Uint8Array(values.slice().buffer);
    case 'f16': {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = f32ToF16(values[i]);
      return new Uint8Array(out.buffer);
    }
    case 'bf16': {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) {
        f32Scratch[0] = values[i];
        const x = u32Scratch[0];
        out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
      }
      return new Uint8Array(out.buffer);
    }
    case 'q8_0': return quantizeQ8_0(values);
    case 'q4_0': return quantizeQ4_0(values);
  }
}

/** ggml's quantize_row_q8_0_ref: d = amax / 127, q = round(x / d). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % QK !== 0) throw new Error(`q8_0 needs a multiple of ${QK} values, got ${values.length}`);
  const out = new Uint8Array((values.length / QK) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / QK; b++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(values[b * QK + j]));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 34, f32ToF16(d), true);
    for (let j = 0; j < QK; j++) {
      const x = Math.fround(values[b * QK + j] * id);
      view.setInt8(b * 34 + 2 + j, x < 0 ? -Math.round(-x) : Math.round(x)); // roundf: half away from zero
    }
  }
  return out;
}

/** ggml's quantize_row_q4_0_ref: d = max / −8 (max: the value of largest |x|), q = min(15, ⌊x/d + 8.5⌋). */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  if (values.length % QK !== 0) throw new Error(`q4_0 needs a multiple of ${QK} values, got ${values.length}`);
  const out = new Uint8Array((values.length / QK) * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / QK; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = values[b * QK + j];
      if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 18, f32ToF16(d), true);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(Math.fround(Math.fround(values[b * QK + j] * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(Math.fround(values[b * QK + 16 + j] * id) + 8.5)));
      out[b * 18 + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}
