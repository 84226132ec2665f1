// The engine on the real tiny model: greedy generation reproduces the golden
// 32-token continuations (prefill chunked or not), and load progress is reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type LoadProgress } from '../../src/engine/engine.ts';
import type { Engine } from '../../src/engine/types.ts';
import { GOLDEN_DIR, readGolden } from '../support/golden.ts';

const golden = readGolden();

async function greedyIds(engine: Engine, promptIds: number[], maxTokens: number): Promise<number[]> {
  const ids: number[] = [];
  for await (const e of engine.generate({ promptIds, maxTokens, temperature: 0 })) if (e.type === 'token') ids.push(e.id);
  return ids;
}

describe('engine on tiny-a (CPU)', () => {
  let engine: Engine;
  const progress: LoadProgress[] = [];
  beforeAll(async () => { engine = await createEngine({ model: GOLDEN_DIR, onProgress: (p) => progress.push(p) }); });
  afterAll(async () => { await engine?.dispose(); });

  it('reports load progress: weights step by step, then the tokenizer, then ready', () => {
    const weights = progress.filter((p) => p.stage === 'weights');
    expect(weights.length).toBeGreaterThan(1);
    expect(weights.at(-1)!.loaded).toBe(weights.at(-1)!.total);
    expect(progress.at(-1)!.stage).toBe('ready');
    expect(engine.model).toEqual({ id: 'tiny-a', contextLength: 512, vocabSize: 1000, backend: 'cpu', threads: 1, activations: 'f32', kernels: 'relaxed' });
  });

  it('greedy generation reproduces the golden continuations', async () => {
    for (const g of golden.greedy) {
      const ids = await greedyIds(engine, g.prompt_ids, g.continuation_ids.length);
      expect(ids).toEqual(g.continuation_ids.slice(0, ids.length));
      expect(ids.length).toBe(g.continuation_ids.length);
    }
  });

  it('the same with the prompt prefilled a few tokens per step', async () => {
    const chunked = await createEngine({ model: GOLDEN_DIR, stepTokens: 3 });
    try {
      const g = golden.greedy[1];
      expect(await greedyIds(chunked, g.prompt_ids, g.continuation_ids.length)).toEqual(g.continuation_ids);
    } finally {
      await chunked.dispose();
    }
  });
});
