// Quantizers of our own for the 256-element super-block types (layouts in
// k-blocks.ts). Not bit-identical to llama.cpp's: each sub-block's scale (and
// min) is fitted, the sub-block scales are quantized to the format's 4/6/8
// bits against one f16 super-scale, and every value is then requantized with
// the scales as stored, so what a reader decodes is what was fitted to.
import { roundToF16, writeHalf } from '../half.ts';
import { fitIq4Scale, nearestIq4 } from './legacy-blocks.ts';

const QK_K = 256;

function superBlocks(name: string, values: Float32Array, blockBytes: number, quantize: (x: Float32Array, out: Uint8Array, at: number) => void): Uint8Array {
  if (values.length % QK_K !== 0) throw new Error(`${name} needs a multiple of ${QK_K} values, got ${values.length}`);
  const out = new Uint8Array((values.length / QK_K) * blockBytes);
  for (let b = 0; b < values.length / QK_K; b++) quantize(values.subarray(b * QK_K, (b + 1) * QK_K), out, b * blockBytes);
  return out;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * Affine fit x ≈ scale·q − min with q ∈ [0, nmax], min ≥ 0 (the offset never
 * positive, as the formats store it): from min/max, then a scan of candidate
 * step counts around nmax, each refitted by weighted least squares (weights
 * |x| + rms(x)), keeping the one of least weighted squared error.
 */
export function fitAffine(x: Float32Array, nmax: number): { scale: number; min: number } {
  let lo = Math.min(0, ...x);
  const hi = Math.max(...x);
  if (hi === lo) return { scale: 0, min: -lo };
  let rms = 0;
  for (const v of x) rms += v * v;
  rms = Math.sqrt(rms / x.length);
  const w = Array.from(x, (v) => rms + Math.abs(v));
  const error = (scale: number, offset: number): number => {
    let e = 0;
    for (let i = 0; i < x.length; i++) {
      const q = scale > 0 ? clamp(Math.round((x[i] - offset) / scale), 0, nmax) : 0;
      e += w[i] * (scale * q + offset - x[i]) ** 2;
    }
    return e;
  };
  let best = { scale: (hi - lo) / nmax, offset: lo };
  let bestError = error(best.scale, best.offset);
  for (let step = -10; step <= 10; step++) {
    const iscale = (nmax + step / 10) / (hi - lo);
    let sw = 0, sl = 0, sl2 = 0, sx = 0, sxl = 0;
    for (let i = 0; i < x.length; i++) {
      const q = clamp(Math.round(iscale * (x[i] - lo)), 0, nmax);
      sw += w[i]; sl += w[i] * q; sl2 += w[i] * q * q; sx += w[i] * x[i]; sxl += w[i] * q * x[i];
    }
    const D = sw * sl2 - sl * sl;
    if (D <= 0) continue;
    let scale = (sw * sxl - sx * sl) / D;
    let offset = (sl2 * sx - sl * sxl) / D;
    if (offset > 0) { offset = 0; scale = sxl / sl2; }
    if (scale <= 0) continue;
    const e = error(scale, offset);
    if (e < bestError) { bestError = e; best = { scale, offset }; }
  }
  lo = best.offset;
  return { scale: best.scale, min: -lo };
}

/** Symmetric fit x ≈ scale·q with q ∈ [−n, n − 1]: the largest magnitude on −n (as ggml's make_qx_quants starts). */
function fitSymmetric(x: Float32Array, n: number): number {
  let amax = 0;
  let max = 0;
  for (const v of x) if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
  return max / -n;
}

/** Quantizes sub-block scales (all ≥ 0) to [0, levels] against one f16 super-scale; returns it and the levels. */
function quantizeScales(scales: number[], levels: number): { d: number; q: number[] } {
  const max = Math.max(...scales);
  if (!(max > 0)) return { d: 0, q: scales.map(() => 0) };
  const d = roundToF16(max / levels);
  return { d, q: scales.map((s) => (d > 0 ? clamp(Math.round(s / d), 0, levels) : 0)) };
}

/** Signed sub-block scales to [−half, half − 1] against a super-scale whose sign maps the largest magnitude on −half. */
function quantizeSignedScales(scales: number[], half: number): { d: number; q: number[] } {
  let amax = 0;
  let max = 0;
  for (const s of scales) if (Math.abs(s) > amax) { amax = Math.abs(s); max = s; }
  if (amax === 0) return { d: 0, q: scales.map(() => 0) };
  const d = roundToF16(max / -half);
  return { d, q: scales.map((s) => (d !== 0 ? clamp(Math.round(s / d), -half, half - 1) : 0)) };
}

export function quantizeQ2K(values: Float32Array): Uint8Array {
  return superBlocks('q2_k', values, 84, (x, out, at) => {
    const fits = Array.from({ length: 16 }, (_, j) => fitAffine(x.subarray(16 * j, 16 * j + 16), 3));
    const sc = quantizeScales(fits.map((p) => p.scale), 15);
    const mn = quantizeScales(fits.map((p) => p.min), 15);
    writeHalf(out, at + 80, sc.d);
    writeHalf(out, at + 82, mn.d);
    const L = new Uint8Array(QK_K);
    for (let j = 0; j < 16; j++) {
      out[at + j] = sc.q[j] | (mn.q[j] << 4);
      const dl = sc.d * sc.q[j];
      const ml = mn.d * mn.q[j];
      for (let i = 0; i < 16; i++) L[16 * j + i] = dl > 0 ? clamp(Math.round((x[16 * j + i] + ml) / dl), 0, 3) : 0;
    }
    // Byte l of each 32-byte half holds elements l, l + 32, l + 64, l + 96 of that half, 2 bits each.
    for (let n = 0; n < 2; n++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * n + l;
        out[at + 16 + 32 * n + l] = L[e] | (L[e + 32] << 2) | (L[e + 64] << 4) | (L[e + 96] << 6);
      }
    }
  });
}

export function quantizeQ3K(values: Float32Array): Uint8Array {
  return superBlocks('q3_k', values, 110, (x, out, at) => {
    const sc = quantizeSignedScales(Array.from({ length: 16 }, (_, j) => fitSymmetric(x.subarray(16 * j, 16 * j + 16), 4)), 32);
    writeHalf(out, at + 108, sc.d);
    for (let j = 0; j < 16; j++) {
      const l = sc.q[j] + 32;
      if (j < 8) out[at + 96 + j] |= l & 0x0f;
      else out[at + 96 + j - 8] |= (l & 0x0f) << 4;
      out[at + 96 + 8 + (j % 4)] |= (l >> 4) << (2 * (j >> 2));
    }
    const L = new Uint8Array(QK_K);
    for (let j = 0; j < 16; j++) {
      const dl = sc.d * sc.q[j];
      for (let i = 0; i < 16; i++) L[16 * j + i] = dl !== 0 ? clamp(Math.round(x[16 * j + i] / dl), -4, 3) + 4 : 4;
    }
    // The 3rd bit of element e goes to hmask byte e % 32, bit ⌊e / 32⌋; the low 2 bits pack as Q2_K's.
    for (let e = 0; e < QK_K; e++) if (L[e] > 3) { out[at + (e % 32)] |= 1 << (e >> 5); L[e] -= 4; }
    for (let n = 0; n < 2; n++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * n + l;
        out[at + 32 + 32 * n + l] = L[e] | (L[e + 32] << 2) | (L[e + 64] << 4) | (L[e + 96] << 6);
      }
    }
  });
}

/** Packs 8 six-bit (scale, min) pairs as get_scale_min_k4 reads them (k-blocks.ts scaleMinK4). */
function packScaleMinK4(out: Uint8Array, at: number, ls: number[], lm: number[]): void {
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out[at + j] = ls[j];
      out[at + j + 4] = lm[j];
    } else {
      out[at + j + 4] = (ls[j] & 0x0f) | ((lm[j] & 0x0f) << 4);
      out[at + j - 4] |= (ls[j] >> 4) << 6;
      out[at + j] |= (lm[j] >> 4) << 6;
    }
  }
}

/** Q4_K (bits 4) and Q5_K (bits 5): 8 affine sub-blocks of 32 with 6-bit scales and mins. */
function quantizeQ45K(name: string, values: Float32Array, bits: 4 | 5): Uint8Array {
  const nmax = (1 << bits) - 1;
  return superBlocks(name, values, bits === 4 ? 144 : 176, (x, out, at) => {
    const fits = Array.from({ length: 8 }, (_, j) => fitAffine(x.subarray(32 * j, 32 * j + 32), nmax));
    const sc = quantizeScales(fits.map((p) => p.scale), 63);
    const mn = quantizeScales(fits.map((p) => p.min), 63);
    writeHalf(out, at, sc.d);
    writeHalf(out, at + 2, mn.d);
    packScaleMinK4(out, at + 4, sc.q, mn.q);
    const qs = at + (bits === 4 ? 16 : 48);
    for (let c = 0; c < 4; c++) {
      for (const half of [0, 1]) {
        const j = 2 * c + half;
        const dl = sc.d * sc.q[j];
        const ml = mn.d * mn.q[j];
        for (let l = 0; l < 32; l++) {
          const q = dl > 0 ? clamp(Math.round((x[32 * j + l] + ml) / dl), 0, nmax) : 0;
          out[qs + 32 * c + l] |= (q & 0x0f) << (4 * half);
          if (q > 15) out[at + 16 + l] |= 1 << j;
        }
      }
    }
  });
}

export const quantizeQ4K = (values: Float32Array): Uint8Array => quantizeQ45K('q4_k', values, 4);
export const quantizeQ5K = (values: Float32Array): Uint8Array => quantizeQ45K('q5_k', values, 5);

export function quantizeQ6K(values: Float32Array): Uint8Array {
  return superBlocks('q6_k', values, 210, (x, out, at) => {
    const sc = quantizeSignedScales(Array.from({ length: 16 }, (_, j) => fitSymmetric(x.subarray(16 * j, 16 * j + 16), 32)), 128);
    writeHalf(out, at + 208, sc.d);
    const L = new Uint8Array(QK_K);
    for (let j = 0; j < 16; j++) {
      out[at + 192 + j] = sc.q[j] & 0xff;
      const dl = sc.d * sc.q[j];
      for (let i = 0; i < 16; i++) L[16 * j + i] = dl !== 0 ? clamp(Math.round(x[16 * j + i] / dl), -32, 31) + 32 : 32;
    }
    for (let n = 0; n < 2; n++) {
      for (let l = 0; l < 32; l++) {
        const e = 128 * n + l;
        out[at + 64 * n + l] = (L[e] & 0x0f) | ((L[e + 64] & 0x0f) << 4);
        out[at + 64 * n + l + 32] = (L[e + 32] & 0x0f) | ((L[e + 96] & 0x0f) << 4);
        out[at + 128 + 32 * n + l] = (L[e] >> 4) | ((L[e + 32] >> 4) << 2) | ((L[e + 64] >> 4) << 4) | ((L[e + 96] >> 4) << 6);
      }
    }
  });
}

export function quantizeIq4Xs(values: Float32Array): Uint8Array {
  return superBlocks('iq4_xs', values, 136, (x, out, at) => {
    const sc = quantizeSignedScales(Array.from({ length: 8 }, (_, j) => fitIq4Scale(x.subarray(32 * j, 32 * j + 32))), 32);
    writeHalf(out, at, sc.d);
    let scalesH = 0;
    for (let ib = 0; ib < 8; ib++) {
      const ls = sc.q[ib] + 32;
      out[at + 4 + (ib >> 1)] |= (ls & 0x0f) << (4 * (ib & 1));
      scalesH |= (ls >> 4) << (2 * ib);
      const dl = sc.d * sc.q[ib];
      const id = dl !== 0 ? 1 / dl : 0;
      for (let j = 0; j < 16; j++) {
        out[at + 8 + 16 * ib + j] = nearestIq4(x[32 * ib + j] * id) | (nearestIq4(x[32 * ib + 16 + j] * id) << 4);
      }
    }
    out[at + 2] = scalesH & 0xff;
    out[at + 3] = scalesH >> 8;
  });
}
