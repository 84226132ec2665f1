// The int16-activation path (quantize_act_int16 + matmul_<q8_0|q4_0>_int16 and
// the _dotadd twin) against float64 references, in both builds of the module:
// the quantized layout byte for byte, and the matmul's normalized error against
// the exact product of the stored weights and against the exact f32 kernel —
// awkward N, every token pass (8, 4, 2, 1) and its tails, strided x and out,
// outputs poisoned with NaN, zero/subnormal/extreme weight scales, tiny, huge
// and all-zero activation blocks. The relaxed build's Q4_0 decode runs on byte
// planes with relaxed dot products; its integer sums equal the plain build's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { rowScratchBytes, type IntegerMatmulKernel, type MatmulKernel } from '../../src/backend/cpu/kernel-exports.ts';
import { ACTIVATION_FORMATS } from '../../src/backend/cpu/integer-kernels.ts';
import { RELAXED_OPS, relaxedOpsOf } from '../../src/backend/cpu/kernel-build.ts';
import {
  allocRegion, differingFromAlone, fenceIntact, int16Runner, INVARIANCE_T, kernelInstance, KERNEL_BUILDS, matmulCase, pickOutput, poisonedF32, printRecordedErrors, putBytes, putF32,
  randomF32, readF32, recordRel, relError, release, stridedMatmulRef,
} from './support.ts';
import { quantizeBlockInt16Ref } from '../ops/reference.ts';

/**
 * Activations carry 15 bits per block (|x − q·s| ≤ amax/32766): on uniform
 * random data the rounding error alone is (amax/16383)/√12 against an rms of
 * amax/√3, 3e-5 relative, and the measured error against the exact product is
 * 2.6e-5–3.2e-5 (EDGESEEK_KERNEL_ERRORS=1); 6e-5 leaves room for the seeds
 * without admitting a wrong block or scale (≥ 1e-2).
 */
const TOLERANCE = 6e-5;
/** A block holding one value 50× the rest quantizes those rest 50× more coarsely: the error budget of that case. */
const OUTLIER_TOLERANCE = 2e-4;
/** Plain and relaxed builds compute the same integer block sums; only f32 multiply-add rounding differs. */
const BUILD_TOLERANCE = 1e-6;

const { bytes: actBytes, scratchBytes } = ACTIVATION_FORMATS.int16;
afterAll(printRecordedErrors);

type QuantDType = 'q8_0' | 'q4_0';

/** What quantize_act_int16 must write for x[T, K] (row stride xStride), as bytes (layout: act_quant.ts, block-major). */
function quantizeRef(x: Float32Array, xStride: number, T: number, K: number): Uint8Array {
  const n = (K / 32) * T;
  const header = Math.ceil((n * 20) / 16) * 16;
  const out = new Uint8Array(actBytes(K, T));
  const view = new DataView(out.buffer);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < K / 32; b++) {
      const e = b * T + t;
      const { s, q } = quantizeBlockInt16Ref(x.subarray(t * xStride + b * 32, t * xStride + b * 32 + 32));
      view.setInt32(16 * e, -8 * q.reduce((a, v) => a + v, 0), true);
      view.setFloat32(16 * n + 4 * e, s, true);
      for (let i = 0; i < 32; i++) {
        view.setInt16(header + 64 * e + 2 * i, q[i], true);
        view.setInt8(header + 64 * n + 32 * e + i, q[i] >> 7);
        view.setUint8(header + 96 * n + 32 * e + i, q[i] & 127);
      }
    }
  }
  return out;
}

interface Case { outlier?: boolean; tiny?: boolean; scaleX?: number; hugeWeights?: boolean }

/** Runs the int16 path through `kernel`; its output and errors against the float64 product and the exact f32 kernel. */
function runInt16(
  inst: WasmInstance, dtype: QuantDType, kernel: string, N: number, K: number, T: number, seed: number, c: Case = {},
): { got: Float64Array; ref: number; exact: number } {
  const { weight, x, xStride, outStride } = c.hugeWeights
    ? matmulCase(dtype, N, K, T, seed, false, dtype === 'q8_0' ? 8e6 : 5e5) // block scales d up to ≈ 63000, near half's 65504
    : matmulCase(dtype, N, K, T, seed, c.tiny);
  // The first block all zero (s = 0); with `outlier`, one block per token whose scale a single large value sets.
  x.fill(0, 0, 32);
  if (c.outlier) for (let t = 0; t < T; t++) x[t * xStride + 40] = 50;
  if (c.scaleX) for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i] * c.scaleX);
  const wR = putBytes(inst, weight.bytes);
  const xR = putF32(inst, x);
  const xqR = allocRegion(inst, actBytes(K, T));
  const outR = poisonedF32(inst, T * outStride);
  const exactR = poisonedF32(inst, T * outStride);
  const accR = allocRegion(inst, scratchBytes(T));
  inst.exports.quantize_act_int16(xR.ptr, xStride, T, K, xqR.ptr);
  (inst.exports[kernel as 'matmul_q8_0_int16'] as IntegerMatmulKernel)(wR.ptr, xqR.ptr, outR.ptr, outStride, N, K, T, accR.ptr);
  const scratchR = allocRegion(inst, rowScratchBytes(K));
  (inst.exports[`matmul_${dtype}`] as MatmulKernel)(wR.ptr, xR.ptr, xStride, exactR.ptr, outStride, N, K, T, scratchR.ptr);
  const got = pickOutput(kernel, readF32(inst, outR), N, T, outStride);
  const exact = pickOutput(`matmul_${dtype}`, readF32(inst, exactR), N, T, outStride);
  expect(fenceIntact(inst, xqR), 'quantize_act_int16: memory past dst untouched').toBe(true);
  expect(fenceIntact(inst, outR), `${kernel}: memory past out untouched`).toBe(true);
  expect(fenceIntact(inst, accR), `${kernel}: memory past its scratch untouched`).toBe(true);
  const result = { got, ref: relError(got, stridedMatmulRef(x, xStride, weight.values, N, K, T)), exact: relError(got, exact) };
  release(inst, wR, xR, xqR, outR, exactR, scratchR, accR);
  return result;
}

const outputs = new Map<string, Float64Array>();

for (const build of KERNEL_BUILDS) describe(`${build} SIMD build`, () => {
  let inst: WasmInstance;
  let dotAdd = false;
  beforeAll(async () => {
    inst = await kernelInstance(build);
    dotAdd = (relaxedOpsOf(inst.exports) & RELAXED_OPS.dotAdd) !== 0 || build === 'plain';
  });

  it('act_int16_bytes and int16_scratch_bytes agree with the TypeScript layout', () => {
    for (const K of [32, 96, 2048, 1408, 4128]) {
      for (const T of [1, 2, 3, 13]) expect(inst.exports.act_int16_bytes(K, T), `K = ${K}, T = ${T}`).toBe(actBytes(K, T));
    }
    for (const T of [1, 2, 13, 128]) expect(inst.exports.int16_scratch_bytes(T), `T = ${T}`).toBe(scratchBytes(T));
  });

  it('quantize_act_int16 writes C, scales, i16 values and the h/l planes exactly, for zero, tiny and huge blocks', () => {
    const T = 5;
    const K = 96;
    const xStride = K + 7;
    const x = randomF32(T * xStride, 11, 3);
    x.fill(0, xStride, xStride + 32); // an all-zero block: s = 0, q = 0
    x[2 * xStride + 33] = -1e4; // an outlier owns its block's scale
    for (let i = 0; i < 32; i++) x[3 * xStride + 64 + i] *= 1e-33; // below 2^-100: the scaled-up path
    for (let i = 0; i < 32; i++) x[4 * xStride + i] *= 1e30;
    x[4 * xStride + 35] = 2e-45; // a subnormal among normal values
    const xR = putF32(inst, x);
    const dst = allocRegion(inst, actBytes(K, T));
    inst.exports.quantize_act_int16(xR.ptr, xStride, T, K, dst.ptr);
    const got = inst.u8().slice(dst.ptr, dst.ptr + dst.bytes);
    const want = quantizeRef(x, xStride, T, K);
    const first = got.findIndex((v, i) => v !== want[i]);
    expect(first, `first differing byte at ${first}`).toBe(-1);
    expect(fenceIntact(inst, dst), 'quantize_act_int16: memory past dst untouched').toBe(true);
    release(inst, xR, dst);
  });

  for (const dtype of ['q8_0', 'q4_0'] as QuantDType[]) {
    const kernels = dtype === 'q4_0' ? [`matmul_${dtype}_int16`, `matmul_${dtype}_int16_dotadd`] : [`matmul_${dtype}_int16`];
    for (const kernel of kernels) {
      const twin = kernel.endsWith('_dotadd');
      // The _dotadd twin is only ever run where the self-test passes its op (on Node 20 it does not: Deno covers it).
      const check = (name: string, rel: number, bound: number) => {
        recordRel(`${build} ${name}`, rel);
        expect(rel, `${build} ${name} rel=${rel}`).toBeLessThan(bound);
      };
      const skip = () => twin && !dotAdd;
      for (const T of [1, 2, 3, 4, 5, 8, 13, 16]) {
        it(`${kernel} N=37 K=96 T=${T}`, (ctx) => {
          if (skip()) ctx.skip();
          const r = runInt16(inst, dtype, kernel, 37, 96, T, 500 + T);
          check(`${kernel} T=${T} vs float64`, r.ref, TOLERANCE);
          check(`${kernel} T=${T} vs exact f32 kernel`, r.exact, TOLERANCE);
          const key = `${dtype} T=${T}`;
          const other = outputs.get(key);
          if (other) check(`${kernel} T=${T} against the other build/twin`, relError(r.got, other), BUILD_TOLERANCE);
          else outputs.set(key, r.got);
        });
      }
      it(`${kernel} N=37 K=96 T=13 with an outlier block per token`, (ctx) => {
        if (skip()) ctx.skip();
        check(`${kernel} outlier vs float64`, runInt16(inst, dtype, kernel, 37, 96, 13, 700, { outlier: true }).ref, OUTLIER_TOLERANCE);
      });
      for (const T of [1, 5]) {
        it(`${kernel} N=37 K=96 T=${T}, a third of the blocks with zero or subnormal weight scales`, (ctx) => {
          if (skip()) ctx.skip();
          check(`${kernel} subnormal scales T=${T} vs float64`, runInt16(inst, dtype, kernel, 37, 96, T, 800 + T, { tiny: true }).ref, TOLERANCE);
        });
        it(`${kernel} N=37 K=96 T=${T}, weight block scales near half's maximum`, (ctx) => {
          if (skip()) ctx.skip();
          check(`${kernel} huge scales T=${T} vs float64`, runInt16(inst, dtype, kernel, 37, 96, T, 850 + T, { hugeWeights: true }).ref, TOLERANCE);
        });
        for (const scaleX of [1e-33, 1e30]) {
          it(`${kernel} N=37 K=96 T=${T}, activations scaled by ${scaleX}`, (ctx) => {
            if (skip()) ctx.skip();
            check(`${kernel} activations ×${scaleX} T=${T} vs float64`, runInt16(inst, dtype, kernel, 37, 96, T, 900 + T, { scaleX }).ref, TOLERANCE);
          });
        }
      }
      // A token's outputs must not depend on what else is in its batch (seeded sampling in a
      // continuous batch reproduces the request alone): every pass equals decode bit for bit.
      // The T list crosses every pass: register passes, the token loop from 4 or 6 tokens, long token loops.
      const invarianceT = [...INVARIANCE_T, 16, 17, 31, 64];
      it(`${kernel}: each token of T = ${invarianceT.join(',')} gives the bits it gives alone (T = 1), K with an odd block count`, (ctx) => {
        if (skip()) ctx.skip();
        const N = 37, K = 160; // 5 blocks: the even/odd accumulators and the odd last block
        for (const T of invarianceT) {
          const { weight, x, xStride, outStride } = matmulCase(dtype, N, K, T, 1000 + T);
          const wR = putBytes(inst, weight.bytes);
          const run = int16Runner(inst, kernel, wR.ptr, N, K, xStride, outStride);
          const differing = differingFromAlone(run, x, xStride, outStride, N, T);
          release(inst, wR);
          expect(differing, `${build} ${kernel} T=${T}: ${differing} outputs differ from the token alone`).toBe(0);
        }
      });
      it(`${kernel} at model width (N=67, K=2048, T=13)`, (ctx) => {
        if (skip()) ctx.skip();
        const r = runInt16(inst, dtype, kernel, 67, 2048, 13, 9);
        check(`${kernel} wide vs float64`, r.ref, TOLERANCE);
        check(`${kernel} wide vs exact f32 kernel`, r.exact, TOLERANCE);
      });
    }
  }
});
