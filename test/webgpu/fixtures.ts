import { expect } from 'vitest';
// Test data on the WebGPU backend: random weights in a file dtype (with the
// exact values the reference multiplies by) and NaN-poisoned outputs.
import type { Activation, Backend, DType, Weight } from '../../src/backend/backend.ts';
import { fromF32, toF32 } from '../../src/model/dtype.ts';
import { randomArray } from '../ops/reference.ts';

export function weightOf(b: Backend, name: string, dtype: DType, shape: number[], seed: number): { weight: Weight; values: Float32Array } {
  const count = shape.reduce((a, c) => a * c, 1);
  const bytes = fromF32(dtype, randomArray(count, seed));
  return { weight: b.uploadWeight({ name, dtype, shape, bytes }, { layer: 0 }), values: toF32(dtype, bytes, count) };
}

export function poisoned(b: Backend, rows: number, cols: number): Activation {
  const act = b.createActivation(rows, cols);
  b.write(act, new Float32Array(rows * cols).fill(NaN));
  return act;
}

/** Asserts a relative error bound; EDGESEEK_LOG_REL=1 prints every measured value (for reports). */
export function expectRel(rel: number, bound: number, what: string): void {
  if (process.env.EDGESEEK_LOG_REL === '1') console.log(`rel ${what}: ${rel.toExponential(2)} (bound ${bound})`);
  expect(rel, `${what}: ‖out−ref‖/‖ref‖ = ${rel}`).toBeLessThan(bound);
}
