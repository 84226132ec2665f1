// The batch scheduler over the fake runner (rows independent, so batching is
// exact): what each step holds, chunked prefill under the token budget,
// admission against the cache, preemption and recompute, cancellation.
import { describe, expect, it } from 'vitest';
import { BusyError, EngineClosedError, InvalidRequestError } from '../../src/engine/errors.ts';
import { LatentCacheManager } from '../../src/engine/latent-cache-manager.ts';
import { Scheduler, type SequenceWork } from '../../src/engine/scheduler.ts';
import { FakeRunner } from './support/fake-model.ts';

/** Greedy work producing `count` tokens. */
class Greedy implements SequenceWork {
  readonly tokens: number[];
  readonly produced: number[] = [];
  readonly maxPositions: number;
  error: Error | undefined;
  done = false;
  constructor(prompt: number[], private readonly count: number) {
    this.tokens = [...prompt];
    this.maxPositions = prompt.length + count - 1;
  }
  accept(logits: Float32Array): boolean {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    this.produced.push(best);
    if (this.produced.length >= this.count) { this.done = true; return false; }
    this.tokens.push(best);
    return true;
  }
  fail(error: Error): void { this.error = error; this.done = true; }
}

function setup(budgetBlocks: number, options: { stepTokens?: number; maxQueue?: number } = {}) {
  const runner = new FakeRunner();
  runner.blocks.setCapacity(budgetBlocks);
  const scheduler = new Scheduler(runner, new LatentCacheManager(runner.blocks, runner.blockSize), {
    stepTokens: options.stepTokens ?? 16, maxQueue: options.maxQueue ?? 8,
  });
  const drain = async () => { for (let i = 0; scheduler.hasWork; i++) { if (i > 10_000) throw new Error('no progress'); await scheduler.step(); } };
  return { runner, scheduler, drain };
}

const prompt = (seed: number, length: number) => Array.from({ length }, (_, i) => 2 + ((seed * 7 + i * 3) % 60));

/** The tokens a prompt gives alone, on a cache that never runs out. */
async function alone(p: number[], count: number): Promise<number[]> {
  const { scheduler, drain } = setup(1000);
  const work = new Greedy(p, count);
  scheduler.add(work);
  await drain();
  return work.produced;
}

describe('Scheduler', () => {
  it('every step takes a decode row from each running sequence; prompts are chunked into what the budget leaves', async () => {
    const { runner, scheduler } = setup(100, { stepTokens: 8 });
    const short = [new Greedy(prompt(1, 3), 20), new Greedy(prompt(2, 2), 20), new Greedy(prompt(3, 4), 20)];
    for (const w of short) scheduler.add(w);
    await scheduler.step(); // three prompts, 9 tokens: 8 this step
    await scheduler.step();
    const long = new Greedy(prompt(4, 40), 3);
    scheduler.add(long);
    const before = runner.rowsPerStep.length;
    while (long.produced.length === 0) await scheduler.step();
    const during = runner.rowsPerStep.slice(before);
    expect(during.every((rows) => rows <= 8), `rows per step ${during} within the budget`).toBe(true);
    // 40 prompt tokens with 3 decode rows a step: 5 prefill rows a step, 8 steps.
    expect(during.length).toBe(8);
    expect(short.every((w) => w.produced.length >= 1 + during.length), 'the running streams got a token every step').toBe(true);
  });

  it('with more decoding sequences than the budget, rows go round-robin and a waiting prompt still gets a quarter', async () => {
    const { runner, scheduler } = setup(100, { stepTokens: 4 });
    const works = Array.from({ length: 6 }, (_, i) => new Greedy(prompt(i, 2), 60));
    for (const w of works) scheduler.add(w);
    while (works.some((w) => w.produced.length === 0)) await scheduler.step();
    const at = works.map((w) => w.produced.length);
    for (let i = 0; i < 6; i++) await scheduler.step();
    const gained = works.map((w, i) => w.produced.length - at[i]);
    expect(gained.every((g) => g >= 3 && g <= 5), `tokens per sequence in 6 steps of 4 rows: ${gained}`).toBe(true);
    const late = new Greedy(prompt(9, 10), 2);
    scheduler.add(late);
    const before = runner.steps;
    while (late.produced.length === 0) await scheduler.step();
    // Nine prompt tokens at one row a step, then its last token's row takes its turn among the decode rows.
    expect(runner.steps - before).toBeGreaterThanOrEqual(10);
    expect(runner.steps - before).toBeLessThanOrEqual(12);
  });

  it('admits as soon as blocks allow, keeps one block of growth per running sequence, queues the rest and then says busy', () => {
    // Blocks of 4: a 7-token prompt takes 2.
    const { scheduler } = setup(7, { maxQueue: 1 });
    scheduler.add(new Greedy(prompt(1, 7), 5));
    scheduler.add(new Greedy(prompt(2, 7), 5)); // 2 + 1 reserved for the first: 4 of 7
    expect(scheduler.runningCount).toBe(2);
    scheduler.add(new Greedy(prompt(3, 7), 5)); // needs 2 + 2 reserved, 3 left: waits
    expect([scheduler.runningCount, scheduler.waitingCount]).toEqual([2, 1]);
    expect(() => scheduler.add(new Greedy(prompt(4, 2), 2))).toThrow(BusyError);
    expect(() => scheduler.add(new Greedy(prompt(5, 20), 20)), '39 positions can never fit 7 blocks').toThrow(InvalidRequestError);
  });

  it('when blocks run out mid-generation the newest sequence is preempted, recomputed later, and every output equals running alone', async () => {
    const { scheduler, drain, runner } = setup(9, { stepTokens: 16 });
    const specs = [[prompt(1, 5), 24], [prompt(2, 6), 20], [prompt(3, 3), 22]] as const;
    const works = specs.map(([p, n]) => new Greedy([...p], n));
    const scheduled = works.map((w) => scheduler.add(w));
    await drain();
    // 7 + 7 + 6 blocks at the end do not fit 9: someone was preempted.
    expect(scheduled.reduce((a, s) => a + s.preemptions, 0)).toBeGreaterThan(0);
    for (const [i, [p, n]] of specs.entries()) expect(works[i].produced, `sequence ${i}`).toEqual(await alone([...p], n));
    expect(runner.blocks.inUse).toBe(0);
  });

  it('cancel frees a sequence at once between steps, or when the running step ends', async () => {
    const { scheduler, runner } = setup(20);
    runner.delayMs = 5;
    const a = scheduler.add(new Greedy(prompt(1, 5), 50));
    const b = scheduler.add(new Greedy(prompt(2, 5), 50));
    await scheduler.step();
    scheduler.cancel(a);
    expect(scheduler.runningCount).toBe(1);
    const stepping = scheduler.step();
    scheduler.cancel(b);
    expect(scheduler.runningCount, 'b leaves when the step ends').toBe(1);
    await stepping;
    expect([scheduler.runningCount, runner.blocks.inUse]).toEqual([0, 0]);
    expect([a.state, b.state]).toEqual(['finished', 'finished']);
  });

  it('close fails waiting and running sequences and frees their blocks', async () => {
    const { scheduler, runner } = setup(4, { maxQueue: 4 });
    const works = [new Greedy(prompt(1, 7), 5), new Greedy(prompt(2, 7), 5)];
    for (const w of works) scheduler.add(w);
    await scheduler.step();
    scheduler.close();
    expect(works.every((w) => w.error instanceof EngineClosedError)).toBe(true);
    expect(runner.blocks.inUse).toBe(0);
    expect(() => scheduler.add(new Greedy(prompt(3, 2), 2))).toThrow(EngineClosedError);
  });
});
