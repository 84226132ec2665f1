// Weights in the WebGPU backend's layout (documented in shaders/weights.wgsl),
// per the type table's `gpu.layout` (src/model/weight-types.ts): rows padded
// to 4 elements for f32/f16/bf16; Q8_0/Q4_0 repacked from ggml's 34/18-byte
// blocks into an f32 scale array followed by word-aligned quants; the other
// block types as the file's blocks, each padded to whole u32 words (the
// leading f16 d of Q5_0/IQ4_NL moved behind the quants so those start on a
// word), so shaders read words without unaligned byte arithmetic. A weight
// larger than one storage binding is split into parts: whole matrices for
// stacked [E, N, K] weights, row ranges for [N, K].
import { bytesFor, type DType, type WeightData } from '../backend.ts';
import { f16ToF32, toF32 } from '../../model/dtype.ts';
import { weightType } from '../../model/weight-types.ts';

/** WDTYPE of shaders/weights.wgsl for `dtype`. */
export function gpuTypeCode(dtype: DType): number {
  return weightType(dtype).gpu.code;
}

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
  const { block, blockBytes, gpu: { layout } } = weightType(dtype);
  switch (layout.kind) {
    case 'rows': return Math.ceil(K / 4) * 4 * blockBytes;
    case 'scales': return (K / block) * (4 + blockBytes - 2);
    case 'blocks': return (K / block) * layout.blockWords * 4;
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
  const { block, gpu: { layout } } = weightType(dtype);
  return layout.kind === 'scales' ? rows * (K / block) : 0;
}

/** Writes rows [row0, row0 + rows) of `data` in the GPU layout into `dst` (4-byte aligned). */
export function packPart(data: WeightData, part: PartPlan, dst: Uint8Array): void {
  const K = data.shape[data.shape.length - 1];
  const KP = Math.ceil(K / 4) * 4;
  const src = data.bytes;
  const { row0, rows } = part;
  const { block, blockBytes, gpu: { layout } } = weightType(data.dtype);
  if (layout.kind === 'blocks') {
    const blocks = rows * (K / block);
    const firstBlock = row0 * (K / block);
    const slot = layout.blockWords * 4;
    for (let b = 0; b < blocks; b++) {
      const from = src.subarray((firstBlock + b) * blockBytes, (firstBlock + b + 1) * blockBytes);
      if (layout.moveScale) {
        dst.set(from.subarray(2), b * slot);
        dst.set(from.subarray(0, 2), b * slot + blockBytes - 2);
      } else {
        dst.set(from, b * slot);
      }
    }
    return;
  }
  if (layout.kind === 'rows') {
    // f32 as 4-byte words, f16/bf16 as 2-byte halves; rows padded to KP elements.
    for (let r = 0; r < rows; r++) {
      const from = (row0 + r) * K * blockBytes;
      dst.set(src.subarray(from, from + K * blockBytes), r * KP * blockBytes);
    }
    return;
  }
  const quantBytes = blockBytes - 2;
  const blocks = rows * (K / block);
  const firstBlock = row0 * (K / block);
  const scales = new Float32Array(dst.buffer, dst.byteOffset, blocks);
  const quants = dst.subarray(blocks * 4, blocks * 4 + blocks * quantBytes);
  for (let b = 0; b < blocks; b++) {
    const at = (firstBlock + b) * blockBytes;
    scales[b] = f16ToF32(src[at] | (src[at + 1] << 8));
    quants.set(src.subarray(at + 2, at + blockBytes), b * quantBytes);
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
