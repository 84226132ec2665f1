// design.md / golden README: every golden model, from safetensors F32 and GGUF
// F32, matches the float64 reference to ≤ 1e-4 relative per position with
// identical argmax where the top-1 margin exceeds 1e-3 and identical 32-token
// greedy continuations; the Q8_0 GGUF matches its own reference to ≤ 1e-3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { greedyContinuation } from '../support/greedy.ts';
import { argmax, relativeError } from '../support/logits.ts';
import { openRunner } from '../support/runner.ts';
import { NO_GPU } from '../webgpu/gpu-backend.ts';

const golden = readGolden();
const variants: { label: string; path: string; quantize?: 'q8_0'; tolerance: number; sequences: typeof golden.sequences; greedy: typeof golden.greedy }[] = [
  { label: 'safetensors F32', path: GOLDEN_DIR, tolerance: 1e-4, sequences: golden.sequences, greedy: golden.greedy },
  { label: 'GGUF F32', path: `${GOLDEN_DIR}/model.gguf`, tolerance: 1e-4, sequences: golden.sequences, greedy: golden.greedy },
  { label: 'GGUF Q8_0', path: `${GOLDEN_DIR}/${golden.q8_0.gguf}`, tolerance: 1e-3, sequences: golden.q8_0.sequences, greedy: golden.q8_0.greedy },
  // Quantize-at-load rounds exactly as llama.cpp's Q8_0 (same tensors, same blocks), so the Q8_0 reference applies.
  { label: 'safetensors F32 quantized to Q8_0 at load', path: GOLDEN_DIR, quantize: 'q8_0' as const, tolerance: 1e-3, sequences: golden.q8_0.sequences, greedy: golden.q8_0.greedy },
];

// Every backend: the CPU backend in both SIMD builds, and WebGPU (Dawn on llvmpipe under Node) unless this machine has no GPU stack.
const backends = ([
  { label: 'cpu backend, relaxed SIMD', backend: 'cpu', simd: 'relaxed' },
  { label: 'cpu backend, plain SIMD', backend: 'cpu', simd: 'plain' },
  { label: 'webgpu backend', backend: 'webgpu' },
] as const).filter((b) => b.backend === 'cpu' || !NO_GPU);

for (const { label, backend, ...rest } of backends) for (const variant of variants) {
  describe(`golden tiny-a, ${variant.label}, ${label}`, () => {
    let runner: ModelRunner;
    beforeAll(async () => {
      runner = await openRunner(variant.path, { quantize: variant.quantize, backend, activations: 'f32', simd: 'simd' in rest ? rest.simd : undefined });
    });
    afterAll(() => runner?.dispose());

    for (const [index, sequence] of variant.sequences.entries()) {
      it(`sequence ${index} (${sequence.ids.length} tokens): logits per position within ${variant.tolerance}`, async () => {
        const reference = readF32(`${GOLDEN_DIR}/${sequence.logits_file}`);
        const V = runner.config.vocabSize;
        const seq = runner.newSequence(sequence.ids.length);
        const logits = await runner.forward(seq, sequence.ids, { allLogits: true });
        runner.release(seq);
        const margins = sequence.top1_margin ?? golden.sequences[index].top1_margin!;
        let worst = 0;
        for (let p = 0; p < sequence.ids.length; p++) {
          const row = logits.subarray(p * V, (p + 1) * V);
          const ref = reference.subarray(p * V, (p + 1) * V);
          const rel = relativeError(row, ref);
          worst = Math.max(worst, rel);
          expect(rel, `position ${p}: ‖Δ‖/‖ref‖ = ${rel}`).toBeLessThanOrEqual(variant.tolerance);
          if (margins[p] > 1e-3) expect(argmax(row), `argmax at position ${p}`).toBe(sequence.argmax[p]);
        }
        console.log(`${label} ${variant.label} sequence ${index}: worst ‖Δ‖/‖ref‖ = ${worst.toExponential(2)}`);
      });
    }

    for (const [index, greedy] of variant.greedy.entries()) {
      it(`greedy continuation ${index} is identical (${greedy.continuation_ids.length} tokens, prefill then decode)`, async () => {
        const continuation = await greedyContinuation(runner, greedy.prompt_ids, greedy.continuation_ids.length);
        expect(continuation).toEqual(greedy.continuation_ids);
      });
    }
  });
}
