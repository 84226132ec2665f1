// matmul_<dtype> and dequantize_<dtype> against float64 references over the
// exact values each format stores: awkward N and K, strided x and out, T
// covering the 8- and 4-token passes, their tails and decode, outputs poisoned
// with NaN — in both builds of the module (plain SIMD, and relaxed SIMD with FMA);
// and every token of a batch bit-identical to the token alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import {
  batchDifferences, ENCODERS, f64ToHalf, fenceIntact, halfToF64, INVARIANCE_T, kernelInstance, KERNEL_BUILDS, poisonedF32,
  printRecordedErrors, putBytes, randomF32, readF32, recordRel, relError, release, runMatmulKernel,
} from './support.ts';

type DType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0';
/** Activations and the stored weight values are exact inputs, so only f32 accumulation order differs. */
const TOLERANCE = 1e-6;

afterAll(printRecordedErrors);

describe('f16 encoder used by the references', () => {
  it('round-trips every finite half', () => {
    for (let h = 0; h < 0x10000; h++) {
      if (((h >> 10) & 0x1f) === 31) continue;
      const back = f64ToHalf(halfToF64(h));
      if (back !== h && !(h === 0x8000 && back === 0x8000)) expect(back, `half 0x${h.toString(16)}`).toBe(h);
    }
  });
});


for (const build of KERNEL_BUILDS) describe(`${build} SIMD build`, () => {
  let inst: WasmInstance;
  beforeAll(async () => { inst = await kernelInstance(build); });

  describe('matmul kernels', () => {
    for (const dtype of ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'] as DType[]) {
      const K = dtype.startsWith('q') ? 96 : 77;
      for (const T of [1, 3, 4, 5, 8, 13]) {
        it(`matmul_${dtype} N=37 K=${K} T=${T}`, () => {
          const rel = recordRel(`${build} matmul_${dtype} T=${T}`, runMatmulKernel(inst, dtype, 37, K, T, 100 + T));
          expect(rel, `matmul_${dtype} T=${T} rel=${rel}`).toBeLessThan(TOLERANCE);
        });
      }
      it(`matmul_${dtype} at model width (N=67, K=${dtype.startsWith('q') ? 2048 : 2051}, T=13)`, () => {
        // Q8_0 rows of K=2048 are 2176 bytes: the 128 KiB row tiles split N=67 into 60 + 7.
        const rel = recordRel(`${build} matmul_${dtype} wide`, runMatmulKernel(inst, dtype, 67, dtype.startsWith('q') ? 2048 : 2051, 13, 7));
        expect(rel, `matmul_${dtype} wide rel=${rel}`).toBeLessThan(TOLERANCE);
      });
    }
  });

  // Batch invariance (matmul_float.ts, matmul_quant.ts): a continuous batch
  // reproduces each request alone, so every pass equals decode bit for bit.
  describe('batch invariance', () => {
    for (const dtype of ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'] as DType[]) {
      // K = 77: 9 eight-column steps and a scalar tail; Q: 5 blocks, the even/odd accumulators and an odd last block.
      const K = dtype.startsWith('q') ? 160 : 77;
      for (const tiny of [false, true]) {
        const what = tiny ? (dtype === 'f16' ? ', zero and subnormal halves' : ', zero and subnormal scales') : '';
        if (tiny && !['f16', 'q8_0', 'q4_0'].includes(dtype)) continue;
        it(`matmul_${dtype}: each token of T = ${INVARIANCE_T.join(',')} gives the bits it gives alone (T = 1), N=37 K=${K}${what}`, () => {
          for (const T of INVARIANCE_T) {
            const differing = batchDifferences(inst, dtype, 37, K, T, 400 + T, tiny);
            expect(differing, `${build} matmul_${dtype} T=${T}${what}: ${differing} outputs differ from the token alone`).toBe(0);
          }
        });
      }
    }
  });

  describe('matmul_f16 with zero and subnormal halves, Q8_0/Q4_0 with zero and subnormal block scales', () => {
    for (const dtype of ['f16', 'q8_0', 'q4_0'] as DType[]) {
      const K = dtype === 'f16' ? 77 : 96;
      // T = 9: f16 decodes whole rows to f32 from 8 tokens on (the quantized formats from 2).
      for (const T of [1, 5, 9]) {
        it(`matmul_${dtype} N=37 K=${K} T=${T}, a third of the weights zero or subnormal`, () => {
          const rel = recordRel(`${build} matmul_${dtype} subnormal T=${T}`, runMatmulKernel(inst, dtype, 37, K, T, 300 + T, true));
          expect(rel, `matmul_${dtype} subnormal T=${T} rel=${rel}`).toBeLessThan(TOLERANCE);
        });
      }
    }
  });

  describe('dequantize kernels', () => {
    for (const dtype of ['f16', 'bf16', 'q8_0', 'q4_0'] as const) {
      const count = dtype.startsWith('q') ? 160 : 77;
      it(`dequantize_${dtype} count=${count} is exact`, () => {
        const values = randomF32(count, 31, 2);
        for (let i = 0; i < count; i += 5) values[i] *= 1e-5; // subnormal halves among normal ones
        const weight = ENCODERS[dtype](values);
        const src = putBytes(inst, weight.bytes);
        const dst = poisonedF32(inst, count);
        inst.exports[`dequantize_${dtype}`](src.ptr, dst.ptr, count);
        const got = readF32(inst, dst);
        const rel = recordRel(`dequantize_${dtype}`, relError(got, weight.values));
        expect(rel, `dequantize_${dtype} rel=${rel}`).toBe(0);
        expect(fenceIntact(inst, dst), `dequantize_${dtype}: memory past dst untouched`).toBe(true);
        release(inst, src, dst);
      });
    }

    it('dequantize_f16 decodes subnormal, signed-zero and extreme halves exactly', () => {
      const halves = new Uint16Array([0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x3c00, 0xbc00, 0x8001, 0x3555]);
      const src = putBytes(inst, new Uint8Array(halves.buffer));
      const dst = poisonedF32(inst, halves.length);
      inst.exports.dequantize_f16(src.ptr, dst.ptr, halves.length);
      const got = readF32(inst, dst);
      for (let i = 0; i < halves.length; i++) {
        expect(Object.is(got[i], halfToF64(halves[i])), `half 0x${halves[i].toString(16)} → ${got[i]}`).toBe(true);
      }
      release(inst, src, dst);
    });
  });
});
