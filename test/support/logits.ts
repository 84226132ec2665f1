// Test support: a model's logits at every position, as `edgeseek logits` computes them.
import type { BackendKind } from '../../src/backend/create-backend.ts';
import type { QuantizeMode } from '../../src/model/load-weights.ts';
import { openRunner } from './runner.ts';

export interface LogitsOptions {
  backend?: Exclude<BackendKind, 'auto'>;
  quantize?: QuantizeMode;
  /** Forces a multi-memory CPU model (bytes of weights per Wasm memory). */
  shardWeightBytes?: number;
  maxBatch?: number;
}

export async function logitsFor(modelPath: string, ids: number[], options: LogitsOptions = {}):
  Promise<{ vocab: number; positions: number; logits: Float32Array }> {
  const runner = await openRunner(modelPath, options);
  try {
    const seq = runner.newSequence(ids.length);
    const logits = await runner.forward(seq, ids, { allLogits: true });
    return { vocab: runner.config.vocabSize, positions: ids.length, logits };
  } finally {
    runner.dispose();
  }
}

/** ‖a − b‖ / ‖b‖ over one row. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
