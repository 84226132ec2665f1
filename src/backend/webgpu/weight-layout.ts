// Weights in the WebGPU backend's layout (documented in shaders/weights.wgsl):
// rows padded to 4 elements for f32/f16/bf16; Q8_0/Q4_0 repacked from ggml's
// 34/18-byte blocks into an f32 scale array followed by word-aligned quants,
// so shaders read u32 words without byte arithmetic. A weight larger than one
// storage binding is split into parts: whole matrices for stacked [E, N, K]
// weights, row ranges for [N, K].
import { bytesFor, type DType, type WeightData } from '../backend.ts';
import { f16ToF32, toF32 } from '../../model/dtype.ts';

export const DTYPE_CODE: Record<DType, number> = { f32: 0, f16: 1, bf16: 2, q8_0: 3, q4_0: 4 };

/**
 * Invocations per output row in matmul.wgsl / moe.wgsl: a power of two ≤ 64
 * giving each about 4 groups of 4 values, so short rows (W_UK's 128) fill
 * workgroups with several rows instead of idling 56 of 64 threads.
 */
export function threadsPerRow(K: number): number {
  const groups = Math.ceil(K / 4);
  let tpr = 1;
  while (tpr < 64 && tpr * 2 * 4 <= groups) tpr *= 2;
  return tpr;
}

export interface PartPlan {
  /** First row of the part in the flattened [E·N] rows. */
  readonly row0: number;
  readonly rows: number;
}

/** Bytes of `rows` rows of length K in the GPU layout. */
export function packedRowBytes(dtype: DType, K: number): number {
  const KP = Math.ceil(K / 4) * 4;
  switch (dtype) {
    case 'f32': return KP * 4;
    case 'f16': case 'bf16': return KP * 2;
    case 'q8_0': return (K / 32) * 4 + K;
    case 'q4_0': return (K / 32) * 4 + K / 2;
  }
}

/** Splits the flattened rows into parts of at most maxBytes, whole matrices for stacked weights. */
export function planParts(name: string, dtype: DType, shape: readonly number[], maxBytes: number): PartPlan[] {
  const K = shape[shape.length - 1];
  const N = shape.length >= 2 ? shape[shape.length - 2] : 1;
  const matrices = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const rowBytes = packedRowBytes(dtype, K);
  const totalRows = matrices * N;
  if (totalRows * rowBytes <= maxBytes) return [{ row0: 0, rows: totalRows }];
  const unit = matrices > 1 ? N : 1;
  const unitsPerPart = Math.floor(maxBytes / (unit * rowBytes));
  if (unitsPerPart < 1) {
    throw new Error(`${name}: one ${matrices > 1 ? `[${N}, ${K}] matrix` : 'row'} of ${dtype} needs ${unit * rowBytes} bytes, more than the largest storage binding (${maxBytes})`);
  }
  const parts: PartPlan[] = [];
  for (let row0 = 0; row0 < totalRows; row0 += unitsPerPart * unit) {
    parts.push({ row0, rows: Math.min(unitsPerPart * unit, totalRows - row0) });
  }
  return parts;
}

/** Word index of the quants in a part of `rows` rows (0 for float dtypes). */
export function quantBase(dtype: DType, rows: number, K: number): number {
  return dtype === 'q8_0' || dtype === 'q4_0' ? rows * (K / 32) : 0;
}

/** Writes rows [row0, row0 + rows) of `data` in the GPU layout into `dst` (4-byte aligned). */
export function packPart(data: WeightData, part: PartPlan, dst: Uint8Array): void {
  const K = data.shape[data.shape.length - 1];
  const KP = Math.ceil(K / 4) * 4;
  const src = data.bytes;
  const { row0, rows } = part;
  switch (data.dtype) {
    case 'f32': {
      const out = new Float32Array(dst.buffer, dst.byteOffset, rows * KP);
      const values = new Float32Array(src.buffer.slice(src.byteOffset + row0 * K * 4, src.byteOffset + (row0 + rows) * K * 4));
      for (let r = 0; r < rows; r++) out.set(values.subarray(r * K, (r + 1) * K), r * KP);
      return;
    }
    case 'f16': case 'bf16': {
      const out = new Uint16Array(dst.buffer, dst.byteOffset, rows * KP);
      const values = new Uint16Array(src.buffer.slice(src.byteOffset + row0 * K * 2, src.byteOffset + (row0 + rows) * K * 2));
      for (let r = 0; r < rows; r++) out.set(values.subarray(r * K, (r + 1) * K), r * KP);
      return;
    }
    case 'q8_0': case 'q4_0': {
      const blockBytes = data.dtype === 'q8_0' ? 34 : 18;
      const quantBytes = blockBytes - 2;
      const blocks = rows * (K / 32);
      const firstBlock = row0 * (K / 32);
      const scales = new Float32Array(dst.buffer, dst.byteOffset, blocks);
      const quants = dst.subarray(blocks * 4, blocks * 4 + blocks * quantBytes);
      for (let b = 0; b < blocks; b++) {
        const at = (firstBlock + b) * blockBytes;
        scales[b] = f16ToF32(src[at] | (src[at + 1] << 8));
        quants.set(src.subarray(at + 2, at + blockBytes), b * quantBytes);
      }
      return;
    }
  }
}

/** 1-D weights (norms) are held as f32: rmsnorm reads them directly. */
export function vectorAsF32(data: WeightData): Float32Array {
  const count = data.shape.reduce((a, b) => a * b, 1);
  if (data.bytes.byteLength !== bytesFor(data.dtype, data.shape)) {
    throw new Error(`${data.name}: ${data.bytes.byteLength} bytes for ${data.dtype} [${data.shape.join(', ')}], expected ${bytesFor(data.dtype, data.shape)}`);
  }
  return toF32(data.dtype, data.bytes, count);
}
