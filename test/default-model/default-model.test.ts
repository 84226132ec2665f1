// issue 6: the bundled default model (models/default, trained by tools/train)
// computes what the PyTorch model computes — logits within 1e-4 relative on
// held-out text, identical greedy text — and its routing is not collapsed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, RoutePlan } from '../../src/backend/backend.ts';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { loadModelRunner } from '../../src/engine/runner.ts';
import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { loadTokenizer } from '../../src/tokenizer/load.ts';
import type { Tokenizer } from '../../src/tokenizer/types.ts';
import { readF32 } from '../support/golden.ts';
import { greedyContinuation } from '../support/greedy.ts';
import { argmax, relativeError } from '../support/logits.ts';

const DIR = fileURLToPath(new URL('../../models/default/', import.meta.url));
const reference = JSON.parse(readFileSync(`${DIR}/reference/golden.json`, 'utf8')) as {
  sequences: { ids: number[]; logits_file: string; argmax: number[]; top1_margin: number[] }[];
  greedy: { prompt_ids: number[]; ids: number[]; text: string; top1_margin: number[] }[];
};

describe('the default model against its PyTorch reference', () => {
  let runner: ModelRunner;
  let tokenizer: Tokenizer;
  /** Every routing decision the backend makes, for the load check. */
  const routed: number[][] = [];
  beforeAll(async () => {
    const cpu = await createCpuBackend(await loadWasmModuleFromDisk());
    const recording: Backend = Object.create(cpu);
    recording.route = (logits, params) => {
      const plan = cpu.route(logits, params) as RoutePlan;
      void cpu.readPlan(plan).then(({ experts }) => routed.push(Array.from(experts)));
      return plan;
    };
    runner = await loadModelRunner(await fsSource(DIR), { backend: recording });
    tokenizer = await loadTokenizer(await fsSource(DIR));
  });
  afterAll(() => { runner?.dispose(); tokenizer?.dispose(); });

  for (const [index, sequence] of reference.sequences.entries()) {
    it(`held-out text ${index} (${sequence.ids.length} tokens): logits within 1e-4 per position, same argmax`, async () => {
      const V = runner.config.vocabSize;
      const ref = readF32(`${DIR}/reference/${sequence.logits_file}`);
      const seq = runner.newSequence(sequence.ids.length);
      const logits = await runner.forward(seq, sequence.ids, { allLogits: true });
      runner.release(seq);
      for (let p = 0; p < sequence.ids.length; p++) {
        const row = logits.subarray(p * V, (p + 1) * V);
        const rel = relativeError(row, ref.subarray(p * V, (p + 1) * V));
        expect(rel, `position ${p}: ‖Δ‖/‖ref‖ = ${rel}`).toBeLessThanOrEqual(1e-4);
        if (sequence.top1_margin[p] > 1e-3) expect(argmax(row), `argmax at ${p}`).toBe(sequence.argmax[p]);
      }
    });
  }

  for (const [index, greedy] of reference.greedy.entries()) {
    it(`greedy prompt ${index}: the same ${greedy.ids.length} tokens and text as PyTorch`, async () => {
      const ids = await greedyContinuation(runner, greedy.prompt_ids, greedy.ids.length);
      expect(ids).toEqual(greedy.ids);
      expect(tokenizer.decode(ids)).toBe(greedy.text);
    });
  }

  it('routing is not collapsed: no routed expert gets more than 3× its fair share (edgeseek, and PyTorch on the whole validation split)', async () => {
    const { nRoutedExperts: E, numExpertsPerTok: k } = runner.config;
    const counts = new Array(E).fill(0);
    let slots = 0;
    for (const experts of routed) for (const e of experts) { counts[e]++; slots++; }
    expect(slots, 'routing decisions recorded').toBeGreaterThan(1000);
    const fair = slots / E;
    const worst = Math.max(...counts) / fair;
    console.log(`edgeseek per-expert load over the reference texts (all MoE layers, top-${k}): ${counts.join(' ')}; max ${worst.toFixed(2)}× fair`);
    expect(worst).toBeLessThanOrEqual(3);
    const pytorch = JSON.parse(readFileSync(`${DIR}/reference/expert_load.json`, 'utf8')) as { layers: { max_share_of_fair: number }[] };
    for (const layer of pytorch.layers) expect(layer.max_share_of_fair).toBeLessThanOrEqual(3);
  });
});
