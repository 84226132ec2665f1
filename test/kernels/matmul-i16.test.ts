// The int16-activation path (quantize_act_i16 + matmul_<q8_0|q4_0>_i16)
// against float64 references: the quantized block layout bit for bit, and the
// matmul's normalized error against both the exact product of the stored
// weights and the exact f32 kernel, over awkward N, the 8-, 4- and 1-token
// passes and their tails, strided x and out, outputs poisoned with NaN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { ACT_I16_BLOCK_BYTES, rowScratchBytes, type MatmulKernel, type QuantI16MatmulKernel } from '../../src/backend/cpu/kernel-exports.ts';
import {
  allocRegion, fenceIntact, kernelInstance, matmulCase, poisonedF32, printRecordedErrors, putBytes, putF32, randomF32,
  readF32, recordRel, relError, release, stridedMatmulRef,
} from './support.ts';

/**
 * Int16 activations carry ≈15 bits per block (|x − q·s| ≤ amax/65534): on
 * uniform random data the rounding error alone is (amax/32767)/√12 against an
 * rms of amax/√3, 1.5e-5 relative, and the measured error against the exact
 * product is 1.5e-5 (Q8_0 and Q4_0 alike, see EDGESEEK_KERNEL_ERRORS=1); 3e-5
 * leaves room for the seeds without admitting a wrong block or scale (≥ 1e-2).
 */
const TOLERANCE = 3e-5; // measured 1.3e-5 .. 1.6e-5
/** A block holding one value 50× the rest quantizes those rest 50× more coarsely: the error budget of that case. */
const OUTLIER_TOLERANCE = 1e-4; // measured 4.7e-5

let inst: WasmInstance;
beforeAll(async () => { inst = await kernelInstance(); });
afterAll(printRecordedErrors);

type QuantDType = 'q8_0' | 'q4_0';

function roundTiesEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** What quantize_act_i16 must write for x[T, K] (row stride xStride), as bytes. */
function quantizeRef(x: Float32Array, xStride: number, T: number, K: number): Uint8Array {
  const blocks = K / 32;
  const out = new Uint8Array(T * blocks * ACT_I16_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < blocks; b++) {
      const at = (t * blocks + b) * ACT_I16_BLOCK_BYTES;
      let amax = 0;
      for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[t * xStride + b * 32 + i]));
      const inv = amax > 0 ? Math.fround(32767 / amax) : 0;
      view.setFloat32(at, Math.fround(amax / 32767), true);
      for (let i = 0; i < 32; i++) view.setInt16(at + 4 + 2 * i, roundTiesEven(Math.fround(x[t * xStride + b * 32 + i] * inv)), true);
    }
  }
  return out;
}


/** The valid [T, N] part of a strided, poisoned output, after checking nothing past N or past the buffer was written. */
function pickOutput(name: string, got: Float32Array, N: number, T: number, outStride: number): Float64Array {
  const picked = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) picked[t * N + n] = got[t * outStride + n];
    for (let n = N; n < outStride; n++) expect(Number.isNaN(got[t * outStride + n]), `${name}: out[${t}, ${n}] past N untouched`).toBe(true);
  }
  return picked;
}

/** Runs the int16 path; returns its error against the float64 product and against the exact f32 kernel. */
function runI16(
  dtype: QuantDType, N: number, K: number, T: number, seed: number, outlier = false, tiny = false,
): { ref: number; exact: number } {
  const { weight, x, xStride, outStride } = matmulCase(dtype, N, K, T, seed, tiny);
  // The first block all zero (s = 0); with `outlier`, one block per token whose scale a single large value sets.
  x.fill(0, 0, 32);
  if (outlier) for (let t = 0; t < T; t++) x[t * xStride + 40] = 50;
  const wR = putBytes(inst, weight.bytes);
  const xR = putF32(inst, x);
  const xqR = allocRegion(inst, T * (K / 32) * ACT_I16_BLOCK_BYTES);
  const outR = poisonedF32(inst, T * outStride);
  const exactR = poisonedF32(inst, T * outStride);
  inst.exports.quantize_act_i16(xR.ptr, xStride, T, K, xqR.ptr);
  (inst.exports[`matmul_${dtype}_i16`] as QuantI16MatmulKernel)(wR.ptr, xqR.ptr, outR.ptr, outStride, N, K, T);
  const scratchR = allocRegion(inst, rowScratchBytes(K));
  (inst.exports[`matmul_${dtype}`] as MatmulKernel)(wR.ptr, xR.ptr, xStride, exactR.ptr, outStride, N, K, T, scratchR.ptr);
  const name = `matmul_${dtype}_i16`;
  const got = pickOutput(name, readF32(inst, outR), N, T, outStride);
  const exact = pickOutput(`matmul_${dtype}`, readF32(inst, exactR), N, T, outStride);
  expect(fenceIntact(inst, xqR), 'quantize_act_i16: memory past dst untouched').toBe(true);
  expect(fenceIntact(inst, outR), `${name}: memory past out untouched`).toBe(true);
  const result = { ref: relError(got, stridedMatmulRef(x, xStride, weight.values, N, K, T)), exact: relError(got, exact) };
  release(inst, wR, xR, xqR, outR, exactR, scratchR);
  return result;
}

describe('quantize_act_i16', () => {
  it('writes [f32 amax/32767, 32 × i16 round(x/s)] per block, tokens contiguous', () => {
    const T = 5;
    const K = 96;
    const xStride = K + 7;
    const x = randomF32(T * xStride, 11, 3);
    x.fill(0, xStride, xStride + 32); // an all-zero block: s = 0, q = 0
    x[2 * xStride + 33] = -1e4; // an outlier owns its block's scale
    const xR = putF32(inst, x);
    const dst = allocRegion(inst, T * (K / 32) * ACT_I16_BLOCK_BYTES);
    inst.exports.quantize_act_i16(xR.ptr, xStride, T, K, dst.ptr);
    const got = inst.u8().slice(dst.ptr, dst.ptr + dst.bytes);
    expect(Buffer.from(got).equals(Buffer.from(quantizeRef(x, xStride, T, K))), 'quantized blocks equal the reference bytes').toBe(true);
    expect(fenceIntact(inst, dst), 'quantize_act_i16: memory past dst untouched').toBe(true);
    release(inst, xR, dst);
  });
});

describe('matmul_<q8_0|q4_0>_i16', () => {
  for (const dtype of ['q8_0', 'q4_0'] as QuantDType[]) {
    for (const T of [1, 3, 4, 5, 8, 13]) {
      it(`matmul_${dtype}_i16 N=37 K=96 T=${T}`, () => {
        const rel = runI16(dtype, 37, 96, T, 500 + T);
        recordRel(`matmul_${dtype}_i16 T=${T} vs float64`, rel.ref);
        recordRel(`matmul_${dtype}_i16 T=${T} vs exact f32 kernel`, rel.exact);
        expect(rel.ref, `matmul_${dtype}_i16 T=${T} rel=${rel.ref}`).toBeLessThan(TOLERANCE);
        expect(rel.exact, `matmul_${dtype}_i16 T=${T} vs matmul_${dtype} rel=${rel.exact}`).toBeLessThan(TOLERANCE);
      });
    }
    it(`matmul_${dtype}_i16 N=37 K=96 T=13 with an outlier block per token`, () => {
      const rel = runI16(dtype, 37, 96, 13, 700, true);
      recordRel(`matmul_${dtype}_i16 outlier vs float64`, rel.ref);
      expect(rel.ref, `matmul_${dtype}_i16 outlier rel=${rel.ref}`).toBeLessThan(OUTLIER_TOLERANCE);
    });
    for (const T of [1, 5]) {
      it(`matmul_${dtype}_i16 N=37 K=96 T=${T}, a third of the blocks with zero or subnormal scales`, () => {
        const rel = runI16(dtype, 37, 96, T, 800 + T, false, true);
        recordRel(`matmul_${dtype}_i16 subnormal scales T=${T} vs float64`, rel.ref);
        expect(rel.ref, `matmul_${dtype}_i16 subnormal scales T=${T} rel=${rel.ref}`).toBeLessThan(TOLERANCE);
      });
    }
    it(`matmul_${dtype}_i16 at model width (N=67, K=2048, T=13)`, () => {
      const rel = runI16(dtype, 67, 2048, 13, 9);
      recordRel(`matmul_${dtype}_i16 wide vs float64`, rel.ref);
      recordRel(`matmul_${dtype}_i16 wide vs exact f32 kernel`, rel.exact);
      expect(rel.ref, `matmul_${dtype}_i16 wide rel=${rel.ref}`).toBeLessThan(TOLERANCE);
      expect(rel.exact, `matmul_${dtype}_i16 wide vs matmul_${dtype} rel=${rel.exact}`).toBeLessThan(TOLERANCE);
    });
  }
});
