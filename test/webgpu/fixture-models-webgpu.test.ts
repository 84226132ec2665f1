// Every fixture model of test/fixtures/models (YaRN, group-limited routing,
// no q_lora, norm_topk_prob, scaled routing, no shared experts, layer mix,
// tied embeddings, split kv_b, every GGUF type, sharded BF16/F16) on the
// WebGPU backend: logits within 1e-4 of the float64 reference and of the CPU
// backend per position, same argmax where the margin allows, same greedy
// tokens (prefill, then decode with the GPU-resident route plan).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { readF32 } from '../support/golden.ts';
import { greedyContinuation } from '../support/greedy.ts';
import { argmax, relativeError } from '../support/logits.ts';
import { openRunner } from '../support/runner.ts';
import { NO_GPU } from './gpu-backend.ts';

const ROOT = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
const TOLERANCE = 1e-4;

interface FixtureSequence { ids: number[]; logits_file: string; argmax: number[]; top1_margin: number[]; greedy: number[]; greedy_margin: number[] }
interface FixtureSet { sources: string[]; weights: string; sequences: FixtureSequence[] }

const models = readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

for (const model of models) {
  const reference = JSON.parse(readFileSync(`${ROOT}/${model}/reference.json`, 'utf8')) as { covers: string; sets: FixtureSet[] };
  for (const set of reference.sets) {
    for (const source of set.sources) {
      const path = source === '.' ? `${ROOT}/${model}` : `${ROOT}/${model}/${source}`;
      describe.skipIf(NO_GPU)(`webgpu: ${model} from ${source === '.' ? 'safetensors' : source}`, () => {
        let gpu: ModelRunner;
        let cpu: ModelRunner;
        beforeAll(async () => { [gpu, cpu] = await Promise.all([openRunner(path, { backend: 'webgpu' }), openRunner(path)]); });
        afterAll(() => { gpu?.dispose(); cpu?.dispose(); });

        for (const [index, sequence] of set.sequences.entries()) {
          it(`sequence ${index} (${sequence.ids.length} tokens): within ${TOLERANCE} of the reference and of the CPU backend`, async () => {
            const V = gpu.config.vocabSize;
            const ref = readF32(`${ROOT}/${model}/${sequence.logits_file}`);
            const logitsOf = async (runner: ModelRunner) => {
              const seq = runner.newSequence(sequence.ids.length);
              try { return await runner.forward(seq, sequence.ids, { allLogits: true }); } finally { runner.release(seq); }
            };
            const [got, onCpu] = [await logitsOf(gpu), await logitsOf(cpu)];
            let worst = 0;
            let worstCpu = 0;
            for (let p = 0; p < sequence.ids.length; p++) {
              const row = got.subarray(p * V, (p + 1) * V);
              const rel = relativeError(row, ref.subarray(p * V, (p + 1) * V));
              const relCpu = relativeError(row, onCpu.subarray(p * V, (p + 1) * V));
              worst = Math.max(worst, rel);
              worstCpu = Math.max(worstCpu, relCpu);
              expect(rel, `position ${p}: ‖Δ‖/‖ref‖ = ${rel}`).toBeLessThanOrEqual(TOLERANCE);
              expect(relCpu, `position ${p}: ‖webgpu − cpu‖/‖cpu‖ = ${relCpu}`).toBeLessThanOrEqual(TOLERANCE);
              if (sequence.top1_margin[p] > 1e-3) expect(argmax(row), `argmax at ${p}`).toBe(sequence.argmax[p]);
            }
            console.log(`webgpu ${model}/${source} seq ${index}: worst rel vs reference ${worst.toExponential(2)}, vs cpu ${worstCpu.toExponential(2)}`);
            const firstThin = sequence.greedy_margin.findIndex((m) => m <= 1e-3);
            const count = firstThin < 0 ? sequence.greedy.length : firstThin + 1;
            const continuation = await greedyContinuation(gpu, sequence.ids, count);
            expect(continuation.slice(0, firstThin < 0 ? count : firstThin)).toEqual(sequence.greedy.slice(0, firstThin < 0 ? count : firstThin));
          });
        }
      });
    }
  }
}
