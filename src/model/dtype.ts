// Load-time conversions between weight formats (plain JS: they run once per
// tensor, not per token), through the type table (weight-types.ts).
import { weightType, type DType } from './weight-types.ts';

export { f16ToF32, f32ToF16 } from './half.ts';
export { quantizeQ4_0, quantizeQ8_0 } from './quant/legacy-blocks.ts';

/** Decodes `count` elements of `dtype` starting at element `first` into f32 (both on block boundaries). */
export function toF32(dtype: DType, bytes: Uint8Array, count: number, first = 0): Float32Array {
  const { block, blockBytes, decode } = weightType(dtype);
  if (first % block !== 0 || count % block !== 0) {
    throw new Error(`${dtype} decode must start and end on a ${block}-element block boundary (first ${first}, count ${count})`);
  }
  const out = new Float32Array(count);
  const b0 = first / block;
  for (let b = 0; b < count / block; b++) decode(bytes, (b0 + b) * blockBytes, out, b * block);
  return out;
}

/** Encodes f32 values (whole blocks) as `dtype` with our quantizer. */
export function fromF32(dtype: DType, values: Float32Array): Uint8Array {
  return weightType(dtype).quantize(values);
}
