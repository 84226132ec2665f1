// Many requests on one engine (continuous batching, golden tiny-a): 16
// concurrent greedy requests — prompts of mixed lengths, some sharing a
// prefix, mixed max_tokens and stop strings — give each the text it gets
// alone, on the CPU backend in each kernel mode with 1 and 2 threads and on
// WebGPU; a seeded sampled request gives the same tokens whatever else is in
// the batch; prefix-cache hits report cached_tokens and change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type EngineOptions } from '../../src/engine/engine.ts';
import type { Engine, GenerateRequest } from '../../src/engine/types.ts';
import { nodeGpu } from '../support/gpu.ts';
import { GOLDEN_DIR } from '../support/golden.ts';
import { NO_GPU } from '../webgpu/gpu-backend.ts';

const SHARED = 'Once upon a time, in a city on a river, the traders met every morning to exchange salt and stories; ';
/** 16 requests: 5 share SHARED (three whole blocks of it), the rest differ from their first token. */
const REQUESTS: GenerateRequest[] = [
  { prompt: 'Hello', maxTokens: 30 },
  { prompt: `${SHARED}and then`, maxTokens: 24 },
  { prompt: 'The quick brown fox jumps over the lazy dog', maxTokens: 40, stop: ['=='] },
  { prompt: `${SHARED}nobody knew`, maxTokens: 17, stop: ['使用'] },
  { prompt: 'A', maxTokens: 9 },
  { prompt: 'Numbers: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20', maxTokens: 33 },
  { prompt: `${SHARED}the river`, maxTokens: 28, stop: [' the'] },
  { prompt: 'def main():\n    return 0\n', maxTokens: 21, stop: ['part'] },
  { prompt: 'Once upon a time', maxTokens: 40, stop: ['使用'] },
  { prompt: `${SHARED}`, maxTokens: 12 },
  { prompt: '中文文本和 emoji 😀', maxTokens: 26 },
  { prompt: 'x'.repeat(120), maxTokens: 14 },
  { prompt: `${SHARED}a song`, maxTokens: 35, stop: ['==', ' the'] },
  { prompt: 'Why?', maxTokens: 19 },
  { prompt: 'List of things: apples, pears, plums, cherries, grapes, figs', maxTokens: 8 },
  { prompt: 'The end.', maxTokens: 31, stop: ['e'] },
].map((r) => ({ ...r, temperature: 0 }));

async function textOf(engine: Engine, request: GenerateRequest, onFirstToken?: () => void): Promise<{ text: string; reason: string; cached: number; tokens: number[] }> {
  let text = '';
  const tokens: number[] = [];
  for await (const e of engine.generate(request)) {
    if (e.type === 'token') {
      text += e.text;
      if (tokens.push(e.id) === 1) onFirstToken?.();
    } else {
      onFirstToken?.();
      return { text: text + e.text, reason: e.reason, cached: e.usage.cachedTokens ?? 0, tokens };
    }
  }
  throw new Error('no finish event');
}

const MODES: { name: string; options: Partial<EngineOptions>; gpu?: boolean }[] = [
  { name: 'cpu f32', options: {} },
  { name: 'cpu f32, 2 threads', options: { threads: 2 } },
  { name: 'cpu Q8_0 exact', options: { quantize: 'q8_0', activations: 'f32' } },
  { name: 'cpu Q8_0 int16, 2 threads', options: { quantize: 'q8_0', activations: 'int16', threads: 2 } },
  { name: 'cpu Q4_0 int16', options: { quantize: 'q4_0', activations: 'int16' } },
  ...(NO_GPU ? [] : [{ name: 'webgpu', options: { backend: 'webgpu' as const }, gpu: true }]),
];

for (const mode of MODES) {
  describe(`continuous batching (tiny-a, ${mode.name})`, () => {
    let engine: Engine;
    let alone: Awaited<ReturnType<typeof textOf>>[];
    const open = async (extra: Partial<EngineOptions> = {}) => createEngine({
      model: GOLDEN_DIR, ...mode.options, ...extra, ...(mode.gpu ? { gpu: await nodeGpu() } : {}),
    });
    beforeAll(async () => {
      // Each request alone, on an engine of its own (no prefix cached by another request).
      alone = [];
      for (const request of REQUESTS) {
        const solo = await open();
        try { alone.push(await textOf(solo, request)); } finally { await solo.dispose(); }
      }
      engine = await open({ stepTokens: 48 });
    });
    afterAll(() => engine?.dispose());

    it('16 concurrent greedy requests give each the text it gets alone', async () => {
      // Two waves: the second arrives once the first has its first tokens, so its shared prefix is cached by then.
      let started = 0;
      let secondWave!: () => void;
      const firstWaveStarted = new Promise<void>((resolve) => { secondWave = resolve; });
      const first = REQUESTS.slice(0, 8).map((r) => textOf(engine, r, () => { if (++started === 8) secondWave(); }));
      await firstWaveStarted;
      const second = REQUESTS.slice(8).map((r) => textOf(engine, r));
      const together = await Promise.all([...first, ...second]);
      together.forEach((got, i) => {
        expect(got.text, `request ${i} (${JSON.stringify(REQUESTS[i].prompt).slice(0, 30)})`).toBe(alone[i].text);
        expect(got.reason, `request ${i} finish reason`).toBe(alone[i].reason);
      });
      expect(together.some((r) => r.reason === 'stop'), 'some stop string ended a request').toBe(true);
      expect(together.filter((r) => r.cached > 0).length, 'requests that found the shared prefix cached').toBeGreaterThan(0);
      const load = engine.load();
      expect([load.running, load.waiting, load.cacheBytesInUse], 'nothing running, waiting or held afterwards').toEqual([0, 0, 0]);
    });

    it('a request whose prompt prefix is cached reports cached_tokens and gives the same text', async () => {
      const first = await textOf(engine, REQUESTS[1]);
      const again = await textOf(engine, REQUESTS[1]);
      expect(again.cached, 'whole blocks of the prompt, short of its last token').toBeGreaterThanOrEqual(16);
      expect(again.text).toBe(alone[1].text);
      expect(first.text).toBe(alone[1].text);
    });

    it('a seeded sampled request gives the same tokens alone and in a batch', async () => {
      const seeded: GenerateRequest = { prompt: 'Seeded sampling', maxTokens: 25, temperature: 0.9, topP: 0.95, seed: 1234 };
      const solo = await textOf(engine, seeded);
      const inBatch = await Promise.all([seeded, ...REQUESTS.slice(0, 7), { ...seeded, seed: 99 }].map((r) => textOf(engine, r)));
      expect(inBatch[0].tokens).toEqual(solo.tokens);
      expect(inBatch[8].tokens, 'another seed samples otherwise').not.toEqual(solo.tokens);
    });
  });
}

describe('prefix cache under a tiny budget (tiny-a, cpu)', () => {
  it('cached prefixes are evicted least recently used first; evicted or not, every text equals the request alone', async () => {
    // 12 blocks of 16 positions: one long request at a time, a few cached blocks beside it.
    const engine = await createEngine({ model: GOLDEN_DIR, cacheBudgetBytes: 12 * 16 * 3 * 40 * 4 });
    const solo = await createEngine({ model: GOLDEN_DIR });
    try {
      const a: GenerateRequest = { prompt: `${SHARED}and then`, maxTokens: 20, temperature: 0 };
      const fillers: GenerateRequest[] = [1, 2, 3].map((i) => ({ prompt: `Filler ${i}: ${'lorem ipsum dolor sit amet '.repeat(6)}`, maxTokens: 20, temperature: 0 }));
      const ref = await textOf(solo, a);
      const first = await textOf(engine, a);
      const hit = await textOf(engine, a);
      expect(first.cached).toBe(0);
      expect(hit.cached, 'the second run finds its prompt cached').toBeGreaterThan(0);
      for (const f of fillers) expect((await textOf(engine, f)).text).toBe((await textOf(solo, f)).text);
      const afterEviction = await textOf(engine, a);
      expect(afterEviction.cached, 'the fillers evicted its blocks').toBeLessThan(hit.cached);
      expect(engine.load().prefixCacheBlocks, 'cached blocks stay within the budget').toBeLessThanOrEqual(12);
      for (const got of [first, hit, afterEviction]) expect(got.text).toBe(ref.text);
    } finally {
      await engine.dispose();
      await solo.dispose();
    }
  });

  it('when blocks run out mid-generation, sequences are preempted and recomputed (their cached blocks evicted or not) and every text equals the request alone', async () => {
    // 10 blocks; four requests that each grow to 4-5 blocks cannot all run at once.
    const engine = await createEngine({ model: GOLDEN_DIR, cacheBudgetBytes: 10 * 16 * 3 * 40 * 4, stepTokens: 32 });
    const solo = await createEngine({ model: GOLDEN_DIR });
    try {
      const requests: GenerateRequest[] = [0, 1, 2, 3].map((i) => ({ prompt: `${i % 2 ? SHARED : ''}Request ${i} goes on`, maxTokens: 44 - 4 * i, temperature: 0 }));
      const together = await Promise.all(requests.map((r) => textOf(engine, r)));
      for (const [i, r] of requests.entries()) expect(together[i].text, `request ${i}`).toBe((await textOf(solo, r)).text);
      const load = engine.load();
      expect(load.preemptions, 'the budget forced preemptions').toBeGreaterThan(0);
      expect([load.running, load.waiting, load.cacheBytesInUse]).toEqual([0, 0, 0]);
    } finally {
      await engine.dispose();
      await solo.dispose();
    }
  });
});
