// The optional finite check at load (llama.cpp's --check-tensors): a weight
// holding NaN or ±Infinity makes every logit NaN; with the check, the load
// fails naming the tensor and the first bad element instead.
import type { DType } from '../backend/backend.ts';
import { toF32 } from './dtype.ts';
import { WeightFileError } from './safetensors.ts';

/** Elements decoded per step: a multiple of every block size, so steps start on block boundaries. */
const CHUNK = 1 << 16;

export function assertFiniteWeights(file: string, name: string, dtype: DType, shape: readonly number[], bytes: Uint8Array): void {
  const count = shape.reduce((a, b) => a * b, 1);
  for (let first = 0; first < count; first += CHUNK) {
    const values = toF32(dtype, bytes, Math.min(CHUNK, count - first), first);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        throw new WeightFileError(`${file}: tensor ${name} holds ${values[i]} at element ${first + i} (--check-tensors / checkTensors)`);
      }
    }
  }
}
