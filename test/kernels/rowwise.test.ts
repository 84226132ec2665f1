// Row-wise kernels (rmsnorm, rope, add, swiglu, copy_rows) against
// float64 references: strided rows, widths that are not multiples of 4, the
// in-place forms the contract allows, outputs poisoned with NaN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import {
  fenceIntact, kernelInstance, poisonedF32, printRecordedErrors, putF32, randomF32, readF32, recordRel, relError,
  release,
} from './support.ts';

let inst: WasmInstance;
beforeAll(async () => { inst = await kernelInstance(); });
afterAll(printRecordedErrors);

/** Row r, columns [0, cols) of a strided buffer. */
function rowsOf(data: ArrayLike<number>, stride: number, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * stride + c];
  return out;
}

describe('rmsnorm', () => {
  for (const inPlace of [false, true]) {
    it(`rmsnorm rows=3 cols=77${inPlace ? ' in place' : ''}`, () => {
      const rows = 3, cols = 77, xStride = 80, outStride = inPlace ? xStride : 79, eps = 1e-6;
      const x = randomF32(rows * xStride, 5, 3);
      const w = randomF32(cols, 6);
      const xR = putF32(inst, x);
      const wR = putF32(inst, w);
      const outR = inPlace ? xR : poisonedF32(inst, rows * outStride);
      inst.exports.rmsnorm(xR.ptr, xStride, wR.ptr, outR.ptr, outStride, rows, cols, eps);
      const ref = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        let ss = 0;
        for (let c = 0; c < cols; c++) ss += x[r * xStride + c] ** 2;
        const inv = 1 / Math.sqrt(ss / cols + eps);
        for (let c = 0; c < cols; c++) ref[r * cols + c] = x[r * xStride + c] * inv * w[c];
      }
      const got = readF32(inst, outR);
      const rel = recordRel(`rmsnorm${inPlace ? ' in place' : ''}`, relError(rowsOf(got, outStride, rows, cols), ref));
      expect(rel, `rmsnorm rel=${rel}`).toBeLessThan(1e-6);
      expect(fenceIntact(inst, outR), 'memory past out untouched').toBe(true);
      release(inst, xR, wR);
      if (!inPlace) release(inst, outR);
    });
  }
});

describe('rope', () => {
  const rows = 3, heads = 5, dim = 64, headStride = 96, xStride = heads * headStride + 7, pos0 = 11;

  /** (cos, sin) per row and pair j, as src/model/rope.ts builds it (θ_j = pos · base^(−2j/dim)). */
  function table(): { cosSin: Float32Array; angle: (r: number, j: number) => number } {
    const angle = (r: number, j: number) => (pos0 + r) * 10000 ** ((-2 * j) / dim);
    const cosSin = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < dim / 2; j++) {
        cosSin[(r * dim / 2 + j) * 2] = Math.cos(angle(r, j));
        cosSin[(r * dim / 2 + j) * 2 + 1] = Math.sin(angle(r, j));
      }
    }
    return { cosSin, angle };
  }

  /** HF apply_rotary_pos_emb: view (d/2, 2), transpose (x[0::2] ‖ x[1::2]), then x·cos + rotate_half(x)·sin. */
  function hfRope(v: ArrayLike<number>, theta: (j: number) => number): Float64Array {
    const half = v.length / 2;
    const deint = new Float64Array(v.length);
    for (let j = 0; j < half; j++) { deint[j] = v[2 * j]; deint[j + half] = v[2 * j + 1]; }
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const j = i % half; // cos/sin = cat(freqs, freqs)
      const rotated = i < half ? -deint[i + half] : deint[i - half];
      out[i] = deint[i] * Math.cos(theta(j)) + rotated * Math.sin(theta(j));
    }
    return out;
  }

  it('rotates pairs in place to HF values at interleaved positions, touching nothing else', () => {
    const { cosSin, angle } = table();
    const x = randomF32(rows * xStride, 8);
    const xR = putF32(inst, x);
    const tR = putF32(inst, cosSin);
    inst.exports.rope(xR.ptr, xStride, rows, tR.ptr, heads, headStride, dim);
    const got = readF32(inst, xR);
    const ref = Float64Array.from(x);
    for (let r = 0; r < rows; r++) {
      for (let h = 0; h < heads; h++) {
        const base = r * xStride + h * headStride;
        const hf = hfRope(x.subarray(base, base + dim), (j) => angle(r, j));
        // HF position i < d/2 holds pair j = i's first element, i + d/2 its second.
        for (let j = 0; j < dim / 2; j++) { ref[base + 2 * j] = hf[j]; ref[base + 2 * j + 1] = hf[j + dim / 2]; }
      }
    }
    const rel = recordRel('rope vs HF (interleaved positions)', relError(got, ref));
    expect(rel, `rope rel=${rel}`).toBeLessThan(1e-6);
    // Columns outside each head's rotary dims kept their bits exactly.
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < xStride; c++) {
        const inHead = c < heads * headStride && c % headStride < dim;
        if (!inHead) expect(got[r * xStride + c], `x[${r}, ${c}] untouched`).toBe(x[r * xStride + c]);
      }
    }
    release(inst, xR, tR);
  });

  it('gives q·k equal to HF\'s for q and k rotated at different positions', () => {
    const qPos = 37, kPos = 5;
    const theta = (pos: number) => (j: number) => pos * 10000 ** ((-2 * j) / dim);
    const cosSin = new Float32Array(2 * dim);
    for (const [r, pos] of [[0, qPos], [1, kPos]]) {
      for (let j = 0; j < dim / 2; j++) {
        cosSin[(r * dim / 2 + j) * 2] = Math.cos(theta(pos)(j));
        cosSin[(r * dim / 2 + j) * 2 + 1] = Math.sin(theta(pos)(j));
      }
    }
    const qk = randomF32(2 * dim, 9);
    const xR = putF32(inst, qk);
    const tR = putF32(inst, cosSin);
    inst.exports.rope(xR.ptr, dim, 2, tR.ptr, 1, dim, dim);
    const got = readF32(inst, xR);
    let kernelDot = 0;
    for (let i = 0; i < dim; i++) kernelDot += got[i] * got[dim + i];
    const hq = hfRope(qk.subarray(0, dim), theta(qPos));
    const hk = hfRope(qk.subarray(dim), theta(kPos));
    let hfDot = 0;
    for (let i = 0; i < dim; i++) hfDot += hq[i] * hk[i];
    const rel = recordRel('rope q·k vs HF', Math.abs(kernelDot - hfDot) / Math.abs(hfDot));
    expect(rel, `rope q·k ${kernelDot} vs HF ${hfDot}, rel=${rel}`).toBeLessThan(1e-6);
    release(inst, xR, tR);
  });
});

describe('add, swiglu, copy_rows', () => {
  const rows = 3, cols = 77;

  it('add x += y on strided rows', () => {
    const xStride = 81, yStride = 78;
    const x = randomF32(rows * xStride, 12);
    const y = randomF32(rows * yStride, 13);
    const xR = putF32(inst, x);
    const yR = putF32(inst, y);
    inst.exports.add(xR.ptr, xStride, yR.ptr, yStride, rows, cols);
    const got = readF32(inst, xR);
    const ref = Float64Array.from(x);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) ref[r * xStride + c] += y[r * yStride + c];
    const rel = recordRel('add', relError(got, ref));
    expect(rel, `add rel=${rel}`).toBeLessThan(1e-7);
    release(inst, xR, yR);
  });

  for (const inPlace of [false, true]) {
    it(`swiglu silu(g)·u${inPlace ? ' in place' : ''}`, () => {
      const gStride = 80, uStride = 79, outStride = inPlace ? gStride : 83;
      const g = randomF32(rows * gStride, 14, 12); // both tails of silu
      g.set([-100, 95, -87.5, 88.5, -30, 0], 40); // past exp's clamps, in the SIMD part
      const u = randomF32(rows * uStride, 15);
      const gR = putF32(inst, g);
      const uR = putF32(inst, u);
      const outR = inPlace ? gR : poisonedF32(inst, rows * outStride);
      inst.exports.swiglu(gR.ptr, gStride, uR.ptr, uStride, outR.ptr, outStride, rows, cols);
      const ref = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const v = g[r * gStride + c];
          ref[r * cols + c] = (v / (1 + Math.exp(-v))) * u[r * uStride + c];
        }
      }
      const got = readF32(inst, outR);
      const picked = rowsOf(got, outStride, rows, cols);
      const rel = recordRel(`swiglu${inPlace ? ' in place' : ''}`, relError(picked, ref));
      expect(rel, `swiglu rel=${rel}`).toBeLessThan(1e-6);
      // Element by element too, inside exp's unclamped range: the SIMD exp is accurate to ~1 ulp.
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const v = g[r * gStride + c];
          if (Math.abs(v) < 80 && ref[r * cols + c] !== 0) worst = Math.max(worst, Math.abs(picked[r * cols + c] / ref[r * cols + c] - 1));
        }
      }
      expect(worst, `swiglu worst element rel=${worst}`).toBeLessThan(1e-6);
      expect(fenceIntact(inst, outR), 'memory past out untouched').toBe(true);
      release(inst, gR, uR);
      if (!inPlace) release(inst, outR);
    });
  }

  it('copy_rows copies exactly and only the columns asked for', () => {
    const srcStride = 90, dstStride = 85;
    const src = randomF32(rows * srcStride, 16);
    const sR = putF32(inst, src);
    const dR = poisonedF32(inst, rows * dstStride);
    inst.exports.copy_rows(sR.ptr, srcStride, dR.ptr, dstStride, rows, cols);
    const got = readF32(inst, dR);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < dstStride; c++) {
        if (c < cols) expect(got[r * dstStride + c]).toBe(src[r * srcStride + c]);
        else expect(Number.isNaN(got[r * dstStride + c]), `dst[${r}, ${c}] untouched`).toBe(true);
      }
    }
    expect(fenceIntact(inst, dR)).toBe(true);
    release(inst, sR, dR);
  });
});
