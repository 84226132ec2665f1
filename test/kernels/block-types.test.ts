// The block weight types beyond Q8_0/Q4_0 (Q4_1, Q5_0, Q5_1, IQ4_NL, Q2_K..Q6_K,
// IQ4_XS): the plain-JS decoders of src/model (the type table's toF32) and the
// Wasm dequantize_<type> kernels must equal the reference decoders of
// block-formats.ts exactly, on random blocks with edge-case f16 scales and on
// every single scale bit of the 6-bit packings; matmul_<type> (fused decode
// dot at T = 1, decoded rows above) against a float64 matmul over those values;
// our quantizers must round-trip within a bound per format. The kernels run in
// both builds of the module (plain and relaxed SIMD).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { fromF32, toF32 } from '../../src/model/dtype.ts';
import { BLOCK_DTYPES, BLOCK_FORMATS, decodeBlocks, randomBlocks, type BlockDType } from './block-formats.ts';
import {
  batchDifferences, fenceIntact, INVARIANCE_T, kernelInstance, KERNEL_BUILDS, poisonedF32, printRecordedErrors, putBytes,
  randomF32, readF32, recordRel, relError, release, runMatmulKernel,
} from './support.ts';

/** Stored values and f32 activations are exact inputs: only the f32 accumulation order (and Σ(d·q − m)x = d·Σqx − m·Σx) differs (measured ≤ 3.2e-7). */
const TOLERANCE = 1e-6;

/** The round-trip error of our quantizers on uniform values, per format (measured: about 60 % of each bound). */
const QUANTIZER_BOUND: Record<BlockDType, number> = {
  q4_1: 0.1, q5_0: 0.05, q5_1: 0.05, iq4_nl: 0.1, q2_k: 0.35, q3_k: 0.2, q4_k: 0.08, q5_k: 0.04, q6_k: 0.025, iq4_xs: 0.1,
};

/** Byte ranges holding the packed sub-block scales. */
const SCALE_BYTES: Partial<Record<BlockDType, [number, number]>> = {
  q2_k: [0, 16], q3_k: [96, 108], q4_k: [4, 16], q5_k: [4, 16], q6_k: [192, 208], iq4_xs: [2, 8],
};

/** The instance of the build whose describe block runs (set in its beforeAll; blocks run one after another). */
let inst: WasmInstance;
afterAll(printRecordedErrors);

/** Asserts the src decoder and the Wasm kernel both give the reference values of `bytes` bit for bit. */
function expectExactDecodes(dtype: BlockDType, bytes: Uint8Array, count: number, what: string): void {
  const ref = decodeBlocks(dtype, bytes, count);
  const js = toF32(dtype, bytes, count);
  const src = putBytes(inst, bytes);
  const dst = poisonedF32(inst, count);
  inst.exports[`dequantize_${dtype}`](src.ptr, dst.ptr, count);
  const wasm = readF32(inst, dst);
  expect(fenceIntact(inst, dst), `dequantize_${dtype}: memory past dst untouched`).toBe(true);
  release(inst, src, dst);
  for (let i = 0; i < count; i++) {
    if (js[i] !== ref[i]) expect(js[i], `${what}: toF32 ${dtype} element ${i}`).toBe(ref[i]);
    if (wasm[i] !== ref[i]) expect(wasm[i], `${what}: dequantize_${dtype} element ${i}`).toBe(ref[i]);
  }
}

for (const build of KERNEL_BUILDS) describe(`${build} SIMD build`, () => {
  beforeAll(async () => { inst = await kernelInstance(build); });

  for (const dtype of BLOCK_DTYPES) {
    const { block, bytes: blockBytes } = BLOCK_FORMATS[dtype];
    describe(`${dtype} (${block}-element blocks of ${blockBytes} bytes)`, () => {
      it('decodes exactly: random blocks, f16 scales moderate, zero, subnormal and extreme, scale bytes all 0x00 / 0xff', () => {
        for (const [mode, seed] of [['moderate', 1], ['edge', 2], ['edge', 3], ['tiny', 4]] as const) {
          const count = block * 24;
          expectExactDecodes(dtype, randomBlocks(dtype, count, seed, mode).bytes, count, `${mode} blocks`);
        }
      });

      const range = SCALE_BYTES[dtype];
      if (range) {
        it(`decodes exactly with each single bit of the packed scales (bytes ${range[0]}..${range[1] - 1}) set alone`, () => {
          const base = randomBlocks(dtype, block, 5).bytes;
          const bits = (range[1] - range[0]) * 8;
          const blocks = new Uint8Array(bits * blockBytes);
          for (let i = 0; i < bits; i++) {
            const at = i * blockBytes;
            blocks.set(base, at);
            blocks.fill(0, at + range[0], at + range[1]);
            blocks[at + range[0] + (i >> 3)] = 1 << (i & 7);
          }
          expectExactDecodes(dtype, blocks, bits * block, 'single scale bits');
        });
      }

      const K = block === 32 ? 96 : 768;
      for (const T of [1, 2, 5, 8, 13]) {
        it(`matmul_${dtype} N=37 K=${K} T=${T}`, () => {
          const rel = recordRel(`${build} matmul_${dtype} T=${T}`, runMatmulKernel(inst, dtype, 37, K, T, 700 + T));
          expect(rel, `matmul_${dtype} T=${T}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(TOLERANCE);
        });
      }
      for (const T of [1, 5]) {
        it(`matmul_${dtype} T=${T}, a third of the blocks with zero and a third with subnormal f16 scales`, () => {
          const rel = recordRel(`${build} matmul_${dtype} tiny T=${T}`, runMatmulKernel(inst, dtype, 37, K, T, 800 + T, true));
          expect(rel, `matmul_${dtype} tiny T=${T}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(TOLERANCE);
        });
      }
      // Batch invariance (block_types.ts): every token runs decode's dot; T = 17 and 33 cross the chunks of activation sums.
      it(`matmul_${dtype}: each token of T = ${[...INVARIANCE_T, 17, 33].join(',')} gives the bits it gives alone (T = 1), odd block count`, () => {
        const oddK = block === 32 ? 160 : 768;
        for (const T of [...INVARIANCE_T, 17, 33]) {
          const differing = batchDifferences(inst, dtype, 37, oddK, T, 950 + T);
          expect(differing, `${build} matmul_${dtype} T=${T}: ${differing} outputs differ from the token alone`).toBe(0);
        }
      });
      it(`matmul_${dtype} at model width (N=67, K=2048, T=1 and 13)`, () => {
        for (const T of [1, 13]) {
          const rel = recordRel(`${build} matmul_${dtype} wide T=${T}`, runMatmulKernel(inst, dtype, 67, 2048, T, 900 + T));
          expect(rel, `matmul_${dtype} wide T=${T}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(TOLERANCE);
        }
      });

      if (build === 'plain') it(`our quantizer round-trips uniform values within ${QUANTIZER_BOUND[dtype]} and writes blocks the reference decodes alike`, () => {
        const values = randomF32(block * 16, 31, 2);
        values[5] = 0; values.fill(0, block, 2 * block); // a zero value and an all-zero block
        const bytes = fromF32(dtype, values);
        expect(bytes.length).toBe((values.length / block) * blockBytes);
        const decoded = toF32(dtype, bytes, values.length);
        expect(Array.from(decoded)).toEqual(Array.from(decodeBlocks(dtype, bytes, values.length)));
        expect(Array.from(decoded.subarray(block, 2 * block)).every((v) => v === 0), 'an all-zero block decodes to zeros').toBe(true);
        const rel = recordRel(`quantize ${dtype}`, relError(decoded, values));
        expect(rel, `quantize ${dtype}: ‖decoded − x‖/‖x‖ = ${rel}`).toBeLessThan(QUANTIZER_BOUND[dtype]);
      });
    });
  }
});
