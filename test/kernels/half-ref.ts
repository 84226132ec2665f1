// IEEE half and bfloat16 for the test references, written independently of
// src/ (support.ts re-exports them), and the shape of an encoded test weight.

/** A weight as the file stores it and the exact values it means. */
export interface EncodedWeight { bytes: Uint8Array; values: Float64Array }

export function halfToF64(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Round to nearest half (ties to even), finite inputs within the half range. */
export function f64ToHalf(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -24 / 2) return sign;
  let exp = Math.floor(Math.log2(a));
  if (a / 2 ** exp >= 2) exp += 1;
  if (a / 2 ** exp < 1) exp -= 1;
  if (exp < -14) exp = -14; // subnormals share the smallest exponent
  const quantum = 2 ** (exp - 10);
  let m = a / quantum;
  const r = Math.floor(m);
  const frac = m - r;
  m = frac > 0.5 || (frac === 0.5 && r % 2 === 1) ? r + 1 : r;
  // m in [0, 2048]: 1024.. are normal mantissas with the implicit bit.
  if (m >= 2048) { exp += 1; m /= 2; }
  if (m < 1024) return sign | m; // subnormal (exp == −14)
  return sign | ((exp + 15) << 10) | (m - 1024);
}

export function bf16ToF64(b: number): number {
  const f = new Float32Array(new Uint32Array([b << 16]).buffer);
  return f[0];
}

export function f32ToBf16(v: number): number {
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0];
  return (bits + 0x7fff + ((bits >> 16) & 1)) >>> 16;
}

