// The int16-activation kernels of the K-quants (matmul_q4_k_int16,
// matmul_q5_k_int16, matmul_q6_k_int16), IQ4_XS, and of Q5_0, Q5_1, Q4_1 and IQ4_NL (matmul_q5_0_int16 …,
// the fallback types of llama.cpp's K-quant and IQ4_XS presets) against float64 references, in both builds of the module:
// the normalized error against the product of the stored (decoded) weights and
// the exact activations, against the same weights times the quantized
// activations q·s (which isolates the kernel's own f32 rounding from the
// activations' 15 bits), and against the exact f32 kernel — odd N, K = 256·k
// with k odd (the 32-blocks: K = 800, not a multiple of 256), every token count's pass, strided x and out, outputs poisoned
// with NaN, fenced buffers, zero/subnormal and extreme super-scales, the 6-bit
// scale packing's extremes, min-heavy Q4_K / Q5_K blocks, tiny and huge activations;
// and each token's output bits independent of the batch it runs in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { rowScratchBytes, type IntegerMatmulKernel, type MatmulKernel } from '../../src/backend/cpu/kernel-exports.ts';
import { ACTIVATION_FORMATS } from '../../src/backend/cpu/integer-kernels.ts';
import { decodeBlocks, randomBlocks } from './block-formats.ts';
import {
  allocRegion, differingFromAlone, fenceIntact, int16Runner, INVARIANCE_T, kernelInstance, KERNEL_BUILDS, pickOutput, poisonedF32, printRecordedErrors, putBytes, putF32,
  randomF32, readF32, recordRel, relError, release, stridedMatmulRef,
} from './support.ts';
import { quantizeActInt16Ref } from '../ops/reference.ts';

/**
 * As test/kernels/matmul-int16.test.ts: 15-bit activations alone put the
 * product ≈ 3e-5 from the exact one on random data ((amax/16383)/√12 against
 * an rms of amax/√3); measured 1.4e-5 .. 6.5e-5 here, the top at T = 1 (37
 * outputs, a small sample) with a third of the blocks' scales zero. 1e-4
 * covers that spread; a wrong sub-block scale or min shows ≥ 1e-2, and the
 * kernel's own arithmetic is held to KERNEL_TOLERANCE below.
 */
const TOLERANCE = 1e-4;
/**
 * Against the quantized activations only the kernel's f32 arithmetic differs
 * from float64 (the block sums are exact integers): a few roundings (≈ 6e-8
 * each) per four-block term and the f32 accumulation over K/128 terms per
 * lane; measured 4e-8 .. 1e-7. One wrong integer sum in a row is ≥ 1e-4.
 */
const KERNEL_TOLERANCE = 1e-6;

const { bytes: actBytes, scratchBytes } = ACTIVATION_FORMATS.int16;
afterAll(printRecordedErrors);

type KDType = 'q4_k' | 'q5_k' | 'q6_k' | 'iq4_xs' | 'q5_0' | 'q5_1' | 'q4_1' | 'iq4_nl';

/** The 32-value block types (the rest have 256-value super-blocks). */
const smallBlocks = (dtype: KDType): boolean => dtype === 'q5_0' || dtype === 'q5_1' || dtype === 'q4_1' || dtype === 'iq4_nl';
/** K of the small cases: an odd count of 256-value super-blocks; for the 32-blocks one that is not a multiple of 256 (as DeepSeek-V2-Lite's 1408). */
const smallK = (dtype: KDType): number => (smallBlocks(dtype) ? 800 : 768);
type Weights = 'moderate' | 'tiny' | 'edge' | 'min-heavy';

/** Random blocks; 'min-heavy': Q4_K/Q5_K blocks whose dmin·m term outweighs d·sc·n 16 to 1 (d scaled down, dmin kept). */
function weights(dtype: KDType, count: number, seed: number, mode: Weights): { bytes: Uint8Array; values: Float64Array } {
  if (mode !== 'min-heavy') return randomBlocks(dtype, count, seed, mode);
  const { bytes } = randomBlocks(dtype, count, seed, 'moderate');
  const view = new DataView(bytes.buffer);
  for (let at = 0; at < bytes.length; at += dtype === 'q5_k' ? 176 : 144) {
    const d = view.getUint16(at, true);
    view.setUint16(at, (d & 0x8000) | Math.max(0, (d & 0x7fff) - (7 << 10)), true); // d / 128 in the half's exponent
  }
  return { bytes, values: decodeBlocks(dtype, bytes, count) };
}

interface Run { got: Float64Array; ref: number; quantized: number; exact: number }

function runKquant(inst: WasmInstance, dtype: KDType, N: number, K: number, T: number, seed: number, mode: Weights = 'moderate', scaleX = 1): Run {
  const kernel = `matmul_${dtype}_int16`;
  const w = weights(dtype, N * K, seed, mode);
  const xStride = K + 3, outStride = N + 5;
  const x = randomF32(T * xStride, seed + 1);
  x.fill(0, 0, 32); // an all-zero activation block (s = 0)
  if (scaleX !== 1) for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i] * scaleX);
  const wR = putBytes(inst, w.bytes);
  const xR = putF32(inst, x);
  const xqR = allocRegion(inst, actBytes(K, T));
  const outR = poisonedF32(inst, T * outStride);
  const exactR = poisonedF32(inst, T * outStride);
  const accR = allocRegion(inst, scratchBytes(T));
  const rowR = allocRegion(inst, rowScratchBytes(K));
  inst.exports.quantize_act_int16(xR.ptr, xStride, T, K, xqR.ptr);
  (inst.exports[kernel as 'matmul_q4_k_int16'] as IntegerMatmulKernel)(wR.ptr, xqR.ptr, outR.ptr, outStride, N, K, T, accR.ptr);
  (inst.exports[`matmul_${dtype}`] as MatmulKernel)(wR.ptr, xR.ptr, xStride, exactR.ptr, outStride, N, K, T, rowR.ptr);
  const got = pickOutput(kernel, readF32(inst, outR), N, T, outStride);
  const exact = pickOutput(`matmul_${dtype}`, readF32(inst, exactR), N, T, outStride);
  expect(fenceIntact(inst, xqR), 'quantize_act_int16: memory past dst untouched').toBe(true);
  expect(fenceIntact(inst, outR), `${kernel}: memory past out untouched`).toBe(true);
  expect(fenceIntact(inst, accR), `${kernel}: memory past its scratch untouched`).toBe(true);
  const dense = new Float32Array(T * K);
  for (let t = 0; t < T; t++) dense.set(x.subarray(t * xStride, t * xStride + K), t * K);
  const xq = quantizeActInt16Ref(dense, T, K);
  const result = {
    got,
    ref: relError(got, stridedMatmulRef(x, xStride, w.values, N, K, T)),
    quantized: relError(got, stridedMatmulRef(Float32Array.from(xq), K, w.values, N, K, T)),
    exact: relError(got, exact),
  };
  release(inst, wR, xR, xqR, outR, exactR, accR, rowR);
  return result;
}

for (const build of KERNEL_BUILDS) describe(`${build} SIMD build`, () => {
  let inst: WasmInstance;
  beforeAll(async () => { inst = await kernelInstance(build); });

  for (const dtype of ['q4_k', 'q5_k', 'q6_k', 'iq4_xs', 'q5_0', 'q5_1', 'q4_1', 'iq4_nl'] as KDType[]) {
    const kernel = `matmul_${dtype}_int16`;
    const K = smallK(dtype);
    const check = (name: string, rel: number, bound: number) => {
      recordRel(`${build} ${name}`, rel);
      expect(rel, `${build} ${name} rel=${rel}`).toBeLessThan(bound);
    };
    const checkRun = (name: string, r: Run, withExact = true) => {
      check(`${kernel} ${name} vs float64`, r.ref, TOLERANCE);
      check(`${kernel} ${name} vs float64 on the quantized activations`, r.quantized, KERNEL_TOLERANCE);
      if (withExact) check(`${kernel} ${name} vs exact f32 kernel`, r.exact, TOLERANCE);
    };

    for (const T of [1, 2, 3, 5, 8, 13]) {
      it(`${kernel} N=37 K=${K} T=${T}`, () => checkRun(`T=${T}`, runKquant(inst, dtype, 37, K, T, 300 + T)));
    }
    for (const T of [1, 5]) {
      it(`${kernel} N=37 K=${K} T=${T}, a third of the blocks with zero and a third with subnormal (super-)scales`, () => {
        checkRun(`tiny scales T=${T}`, runKquant(inst, dtype, 37, K, T, 400 + T, 'tiny'));
      });
      it(`${kernel} N=37 K=${K} T=${T}, (super-)scales at the edges (±0, subnormal, ±65504) and scale bytes all 0x00 / 0xff`, () => {
        // The exact kernel is compared only on moderate weights: here its own f32 error is of the same order.
        checkRun(`edge scales T=${T}`, runKquant(inst, dtype, 37, K, T, 450 + T, 'edge'), false);
      });
      for (const scaleX of [1e-33, 1e30]) {
        it(`${kernel} N=37 K=${K} T=${T}, activations scaled by ${scaleX}`, () => {
          checkRun(`activations ×${scaleX} T=${T}`, runKquant(inst, dtype, 37, K, T, 500 + T, 'moderate', scaleX));
        });
      }
    }
    if (dtype === 'q4_k' || dtype === 'q5_k') {
      for (const T of [1, 5]) {
        it(`${kernel} N=37 K=768 T=${T}, min-heavy blocks (dmin·m 16× d·sc·n)`, () => {
          checkRun(`min-heavy T=${T}`, runKquant(inst, dtype, 37, 768, T, 550 + T, 'min-heavy'));
        });
      }
    }

    // A token's outputs must not depend on what else is in its batch (seeded sampling in a
    // continuous batch reproduces the request alone): every pass equals decode bit for bit.
    it(`${kernel}: each token of T = 2..13 gives the bits it gives alone (T = 1), K = ${K}`, () => {
      const N = 37;
      for (const T of INVARIANCE_T) {
        const w = randomBlocks(dtype, N * K, 600 + T);
        const xStride = K + 3, outStride = N + 5;
        const x = randomF32(T * xStride, 650 + T);
        const wR = putBytes(inst, w.bytes);
        const run = int16Runner(inst, kernel, wR.ptr, N, K, xStride, outStride);
        const differing = differingFromAlone(run, x, xStride, outStride, N, T);
        release(inst, wR);
        expect(differing, `${build} ${kernel} T=${T}: outputs differing from the token alone`).toBe(0);
      }
    });

    const wideK = smallBlocks(dtype) ? 1408 : 2304;
    it(`${kernel} at model width (N=67, K=${wideK}, T=13)`, () => checkRun('wide', runKquant(inst, dtype, 67, wideK, 13, 9)));
  }
});
