// The forward pass and loaders on the plain-JS float64 backend
// (test/support/js-backend.ts) against the golden logits: separates "the
// model is spelled right" from "the kernels are right".
import { describe, expect, it } from 'vitest';
import { loadModelRunner } from '../../src/engine/runner.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { createJsBackend } from '../support/js-backend.ts';
import { relativeError } from '../support/logits.ts';

const golden = readGolden();

describe('golden tiny-a on the float64 JS backend', () => {
  for (const path of [GOLDEN_DIR, `${GOLDEN_DIR}/model.gguf`]) {
    it(`${path.endsWith('.gguf') ? 'GGUF' : 'safetensors'}: sequences 0 and 1 within 1e-5 per position`, async () => {
      const runner = await loadModelRunner(await fsSource(path), { backend: createJsBackend() });
      const V = runner.config.vocabSize;
      for (const sequence of golden.sequences.slice(0, 2)) {
        const seq = runner.newSequence(sequence.ids.length);
        const logits = await runner.forward(seq, sequence.ids, { allLogits: true });
        const ref = readF32(`${GOLDEN_DIR}/${sequence.logits_file}`);
        for (let p = 0; p < sequence.ids.length; p++) {
          const rel = relativeError(logits.subarray(p * V, (p + 1) * V), ref.subarray(p * V, (p + 1) * V));
          expect(rel, `position ${p}: ‖Δ‖/‖ref‖ = ${rel}`).toBeLessThanOrEqual(1e-5);
        }
      }
    });
  }
});
