// Shared pieces of the kernel tests: one Wasm instance, seeded random data,
// the file formats' encoders/decoders written independently of src/, buffers
// poisoned with NaN and fenced by a sentinel, and the normalized error.
import { expect } from 'vitest';
import { rowScratchBytes, type IntegerMatmulKernel, type MatmulKernel } from '../../src/backend/cpu/kernel-exports.ts';
import { ACTIVATION_FORMATS } from '../../src/backend/cpu/integer-kernels.ts';
import { instantiateKernels, type WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import type { KernelBuild } from '../../src/backend/cpu/kernel-build.ts';
import { loadRelaxedWasmModuleFromDisk, loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { randomArray } from '../ops/reference.ts';
import { BLOCK_FORMATS, randomBlocks, type BlockDType } from './block-formats.ts';

/** Both builds of the module are tested on every runtime that can run them: the plain one stays tested where relaxed SIMD exists. */
export const KERNEL_BUILDS: readonly KernelBuild[] = ['plain', 'relaxed'];

/** The build's module; the relaxed one must compile here (Node 20 with its flag, Deno, workerd). */
export async function kernelModule(build: KernelBuild = 'plain'): Promise<WebAssembly.Module> {
  if (build === 'plain') return loadWasmModuleFromDisk();
  const relaxed = await loadRelaxedWasmModuleFromDisk();
  if (!relaxed) throw new Error('build/edgeseek-relaxed.wasm does not compile on this runtime');
  return relaxed;
}

export async function kernelInstance(build: KernelBuild = 'plain'): Promise<WasmInstance> {
  return instantiateKernels(await kernelModule(build));
}

// The seeded PRNG and random data are test/ops/reference.ts's, shared by every numeric test.
export { rng, randomArray as randomF32 } from '../ops/reference.ts';

/** ‖got − ref‖ / ‖ref‖ in float64. */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) throw new Error(`relError: length ${got.length} vs ${ref.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = got[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return Number.isNaN(num) ? NaN : Math.sqrt(num / den);
}

export { bf16ToF64, f32ToBf16, f64ToHalf, halfToF64 } from './half-ref.ts';
import { bf16ToF64, f32ToBf16, f64ToHalf, halfToF64 } from './half-ref.ts';

// ---- weight encodings: bytes as the files store them, and the values they mean ----

export type { EncodedWeight } from './half-ref.ts';
import type { EncodedWeight } from './half-ref.ts';

export function encodeF32(src: Float32Array): EncodedWeight {
  return { bytes: new Uint8Array(src.slice().buffer), values: Float64Array.from(src) };
}

export function encodeF16(src: Float32Array): EncodedWeight {
  const h = new Uint16Array(src.length);
  const values = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) { h[i] = f64ToHalf(src[i]); values[i] = halfToF64(h[i]); }
  return { bytes: new Uint8Array(h.buffer), values };
}

export function encodeBf16(src: Float32Array): EncodedWeight {
  const h = new Uint16Array(src.length);
  const values = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) { h[i] = f32ToBf16(src[i]); values[i] = bf16ToF64(h[i]); }
  return { bytes: new Uint8Array(h.buffer), values };
}

/** ggml Q8_0: per 32 values an f16 d = amax/127 and i8 q = round(v/d); value q·d. */
export function encodeQ8_0(src: Float32Array): EncodedWeight {
  const blocks = src.length / 32;
  const bytes = new Uint8Array(blocks * 34);
  const view = new DataView(bytes.buffer);
  const values = new Float64Array(src.length);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(src[b * 32 + i]));
    const dh = f64ToHalf(amax / 127);
    const d = halfToF64(dh);
    view.setUint16(b * 34, dh, true);
    for (let i = 0; i < 32; i++) {
      const q = d === 0 ? 0 : Math.max(-128, Math.min(127, Math.round(src[b * 32 + i] / d)));
      view.setInt8(b * 34 + 2 + i, q);
      values[b * 32 + i] = q * d;
    }
  }
  return { bytes, values };
}

/** ggml Q4_0: per 32 values an f16 d and nibbles q ∈ [0, 15]; element j < 16 is byte j's low nibble, j + 16 its high; value (q − 8)·d. */
export function encodeQ4_0(src: Float32Array): EncodedWeight {
  const blocks = src.length / 32;
  const bytes = new Uint8Array(blocks * 18);
  const view = new DataView(bytes.buffer);
  const values = new Float64Array(src.length);
  for (let b = 0; b < blocks; b++) {
    let max = 0;
    for (let i = 0; i < 32; i++) { const v = src[b * 32 + i]; if (Math.abs(v) > Math.abs(max)) max = v; }
    const dh = f64ToHalf(max / -8);
    const d = halfToF64(dh);
    view.setUint16(b * 18, dh, true);
    const q = new Array<number>(32);
    for (let i = 0; i < 32; i++) q[i] = d === 0 ? 8 : Math.max(0, Math.min(15, Math.round(src[b * 32 + i] / d + 8)));
    for (let j = 0; j < 16; j++) bytes[b * 18 + 2 + j] = q[j] | (q[j + 16] << 4);
    for (let i = 0; i < 32; i++) values[b * 32 + i] = (q[i] - 8) * d;
  }
  return { bytes, values };
}

// ---- buffers in the instance's memory ----

const SENTINEL = 0xa5;
const FENCE = 64;

/** A byte range in Wasm memory followed by a 64-byte fence of 0xA5. */
export interface Region { ptr: number; bytes: number }

export function allocRegion(inst: WasmInstance, bytes: number): Region {
  const ptr = inst.heap.alloc(bytes + FENCE);
  inst.u8().fill(SENTINEL, ptr + bytes, ptr + bytes + FENCE);
  return { ptr, bytes };
}

export function fenceIntact(inst: WasmInstance, r: Region): boolean {
  const u8 = inst.u8();
  for (let i = r.ptr + r.bytes; i < r.ptr + r.bytes + FENCE; i++) if (u8[i] !== SENTINEL) return false;
  return true;
}

export function putBytes(inst: WasmInstance, bytes: Uint8Array): Region {
  const r = allocRegion(inst, bytes.length);
  inst.u8().set(bytes, r.ptr);
  return r;
}

export function putF32(inst: WasmInstance, data: ArrayLike<number>): Region {
  const r = allocRegion(inst, data.length * 4);
  inst.f32().set(data, r.ptr / 4);
  return r;
}

export function putI32(inst: WasmInstance, data: ArrayLike<number>): Region {
  const r = allocRegion(inst, data.length * 4);
  inst.i32().set(data, r.ptr / 4);
  return r;
}

/** f32[n] filled with NaN. */
export function poisonedF32(inst: WasmInstance, n: number): Region {
  const r = allocRegion(inst, n * 4);
  inst.f32().fill(NaN, r.ptr / 4, r.ptr / 4 + n);
  return r;
}

export function readF32(inst: WasmInstance, r: Region, n = r.bytes / 4): Float32Array {
  return inst.f32().slice(r.ptr / 4, r.ptr / 4 + n);
}

export function readI32(inst: WasmInstance, r: Region, n = r.bytes / 4): Int32Array {
  return inst.i32().slice(r.ptr / 4, r.ptr / 4 + n);
}

export function release(inst: WasmInstance, ...regions: Region[]): void {
  for (const r of regions) inst.heap.release(r.ptr);
}

const measured: string[] = [];

/** Keeps a measured error for the summary printed when EDGESEEK_KERNEL_ERRORS=1. */
export function recordRel(name: string, rel: number): number {
  measured.push(`${name}: rel=${rel.toExponential(2)}`);
  return rel;
}

export function printRecordedErrors(): void {
  if (process.env.EDGESEEK_KERNEL_ERRORS) console.info(measured.join('\n'));
}

/** float64 out[t, n] = Σ_k x[t·xStride + k] · w[n, k] (w [N, K] as the file stores it, decoded). */
export function stridedMatmulRef(x: Float32Array, xStride: number, w: Float64Array, N: number, K: number, T: number): Float64Array {
  const ref = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[t * xStride + k] * w[n * K + k];
      ref[t * N + n] = s;
    }
  }
  return ref;
}

/**
 * F16: every third weight zero or below half's normal range (2^-14), both f16
 * decode paths in most 8-wide chunks. Q8_0/Q4_0: whole blocks scaled by 1e-4
 * (their scale d a subnormal half) or zeroed (d = 0), among normal blocks.
 */
export function tinyWeights(dtype: string, src: Float32Array): void {
  if (!dtype.startsWith('q')) {
    for (let i = 0; i < src.length; i += 3) src[i] = i % 2 ? src[i] * 1e-4 : 0;
    return;
  }
  for (let b = 0; b * 32 < src.length; b++) {
    if (b % 3 === 0) continue;
    for (let i = b * 32; i < (b + 1) * 32; i++) src[i] = b % 3 === 1 ? src[i] * 1e-4 : 0;
  }
}

/** Each weight format's encoder, by dtype name. */
export const ENCODERS = {
  f32: encodeF32, f16: encodeF16, bf16: encodeBf16, q8_0: encodeQ8_0, q4_0: encodeQ4_0,
} as const satisfies Record<string, (src: Float32Array) => EncodedWeight>;

export type KernelDType = keyof typeof ENCODERS | BlockDType;

/**
 * One matmul test case: a random [N, K] weight in `dtype` (values up to
 * ±amplitude; tinyWeights when `tiny`; for the block types of block-formats.ts
 * random blocks, a third with zero and a third with subnormal scales when
 * `tiny`), activations x [T, K] with rows xStride = K + 3 apart, and the out
 * row stride N + 5 — strides that are never the dense ones.
 */
export function matmulCase(
  dtype: KernelDType, N: number, K: number, T: number, seed: number, tiny = false, amplitude = 0.5,
): { weight: EncodedWeight; x: Float32Array; xStride: number; outStride: number } {
  const xStride = K + 3;
  const x = randomArray(T * xStride, seed + 1);
  if (dtype in BLOCK_FORMATS) return { weight: randomBlocks(dtype as BlockDType, N * K, seed, tiny ? 'tiny' : 'moderate'), x, xStride, outStride: N + 5 };
  const src = randomArray(N * K, seed, amplitude);
  if (tiny) tinyWeights(dtype, src);
  return { weight: ENCODERS[dtype as keyof typeof ENCODERS](src), x, xStride, outStride: N + 5 };
}

/**
 * Runs matmul_<dtype> on a matmulCase with its output poisoned and fenced;
 * checks nothing past N or past the buffers was written and returns
 * ‖out − ref‖/‖ref‖ against the float64 matmul over the stored values.
 */
export function runMatmulKernel(inst: WasmInstance, dtype: KernelDType, N: number, K: number, T: number, seed: number, tiny = false): number {
  const { weight, x, xStride, outStride } = matmulCase(dtype, N, K, T, seed, tiny);
  const wR = putBytes(inst, weight.bytes);
  const xR = putF32(inst, x);
  const outR = poisonedF32(inst, T * outStride);
  const scratchR = allocRegion(inst, rowScratchBytes(K));
  const kernel = inst.exports[`matmul_${dtype}`] as MatmulKernel;
  kernel(wR.ptr, xR.ptr, xStride, outR.ptr, outStride, N, K, T, scratchR.ptr);
  const got = readF32(inst, outR);
  const picked = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) picked[t * N + n] = got[t * outStride + n];
    for (let n = N; n < outStride; n++) {
      expect(Number.isNaN(got[t * outStride + n]), `matmul_${dtype}: out[${t}, ${n}] past N untouched`).toBe(true);
    }
  }
  expect(fenceIntact(inst, outR), `matmul_${dtype}: memory past out untouched`).toBe(true);
  expect(fenceIntact(inst, scratchR), `matmul_${dtype}: memory past the row scratch untouched`).toBe(true);
  const rel = relError(picked, stridedMatmulRef(x, xStride, weight.values, N, K, T));
  release(inst, wR, xR, outR, scratchR);
  return rel;
}

/** Batch sizes of the batch-invariance tests: the 4-token passes, their tails, f16's 8-token switch. */
export const INVARIANCE_T = [2, 3, 4, 5, 7, 8, 13] as const;

/**
 * Outputs of matmul_<dtype> on a matmulCase of T tokens whose bits differ
 * (Object.is) from those of the same token run alone (T = 1): a token's
 * result must not depend on what else shares its forward step.
 */
export function batchDifferences(inst: WasmInstance, dtype: KernelDType, N: number, K: number, T: number, seed: number, tiny = false): number {
  const { weight, x, xStride, outStride } = matmulCase(dtype, N, K, T, seed, tiny);
  const wR = putBytes(inst, weight.bytes);
  const run = (rows: Float32Array, tokens: number): Float32Array => {
    const xR = putF32(inst, rows);
    const outR = poisonedF32(inst, tokens * outStride);
    const scratchR = allocRegion(inst, rowScratchBytes(K));
    (inst.exports[`matmul_${dtype}`] as MatmulKernel)(wR.ptr, xR.ptr, xStride, outR.ptr, outStride, N, K, tokens, scratchR.ptr);
    const got = readF32(inst, outR);
    release(inst, xR, outR, scratchR);
    return got;
  };
  const differing = differingFromAlone(run, x, xStride, outStride, N, T);
  release(inst, wR);
  return differing;
}

/**
 * Outputs n < N of T tokens (run(x, T), rows outStride apart) whose bits
 * differ (Object.is) from run(token t's row, 1): `run` is one kernel call on
 * `tokens` rows of xStride-strided activations.
 */
export function differingFromAlone(
  run: (rows: Float32Array, tokens: number) => Float32Array, x: Float32Array, xStride: number, outStride: number, N: number, T: number,
): number {
  const batched = run(x, T);
  let differing = 0;
  for (let t = 0; t < T; t++) {
    const alone = run(x.slice(t * xStride, (t + 1) * xStride), 1);
    for (let n = 0; n < N; n++) if (!Object.is(alone[n], batched[t * outStride + n])) differing++;
  }
  return differing;
}

/**
 * An int16-path run for differingFromAlone: rows of x quantized by
 * quantize_act_int16, then `kernel` against the weights at wPtr, the output poisoned.
 */
export function int16Runner(
  inst: WasmInstance, kernel: string, wPtr: number, N: number, K: number, xStride: number, outStride: number,
): (rows: Float32Array, tokens: number) => Float32Array {
  const { bytes, scratchBytes } = ACTIVATION_FORMATS.int16;
  return (rows, tokens) => {
    const xR = putF32(inst, rows);
    const xqR = allocRegion(inst, bytes(K, tokens));
    const outR = poisonedF32(inst, tokens * outStride);
    const accR = allocRegion(inst, scratchBytes(tokens));
    inst.exports.quantize_act_int16(xR.ptr, xStride, tokens, K, xqR.ptr);
    (inst.exports[kernel as 'matmul_q8_0_int16'] as IntegerMatmulKernel)(wPtr, xqR.ptr, outR.ptr, outStride, N, K, tokens, accR.ptr);
    const got = readF32(inst, outR);
    release(inst, xR, xqR, outR, accR);
    return got;
  };
}

/** The valid [T, N] part of a strided output poisoned with NaN, after checking nothing past N was written. */
export function pickOutput(name: string, got: Float32Array, N: number, T: number, outStride: number): Float64Array {
  const picked = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) picked[t * N + n] = got[t * outStride + n];
    for (let n = N; n < outStride; n++) expect(Number.isNaN(got[t * outStride + n]), `${name}: out[${t}, ${n}] past N untouched`).toBe(true);
  }
  return picked;
}
