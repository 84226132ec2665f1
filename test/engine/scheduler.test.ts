// The batch scheduler over the fake runner (rows independent, so batching is
// exact; steps timed on the runner's own clock): what each step holds,
// chunked prefill sized to keep decode steps' pace, admission against the
// cache, preemption and recompute, cancellation.
import { describe, expect, it } from 'vitest';
import { BusyError, EngineClosedError, InvalidRequestError } from '../../src/engine/errors.ts';
import { LatentCacheManager } from '../../src/engine/latent-cache-manager.ts';
import { Scheduler, type SequenceWork } from '../../src/engine/scheduler.ts';
import { STALL_FACTOR } from '../../src/engine/step-timing.ts';
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
    stepTokens: options.stepTokens ?? 16, maxQueue: options.maxQueue ?? 8, now: () => runner.clock,
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
  it('with nothing decoding a prompt takes the whole budget; while sequences decode, prompt rows keep each step within 1.5× a decode-only step', async () => {
    const { runner, scheduler } = setup(200, { stepTokens: 32 });
    // A step costs 10 + 2 per row on the runner's clock: fixed costs dominate small steps, as in real decode.
    const first = new Greedy(prompt(0, 70), 40);
    scheduler.add(first);
    await scheduler.step();
    expect(runner.rowsPerStep, 'a lone prompt: the whole budget').toEqual([32]);
    while (first.produced.length === 0) await scheduler.step();
    const short = [1, 2, 3].map((i) => new Greedy(prompt(i, 2), 60));
    for (const w of short) scheduler.add(w);
    while (short.some((w) => w.produced.length === 0)) await scheduler.step();
    for (let i = 0; i < 3; i++) await scheduler.step(); // decode-only steps: 4 rows, 18 on the clock
    const long = new Greedy(prompt(4, 120), 3);
    scheduler.add(long);
    const before = runner.rowsPerStep.length;
    while (long.produced.length === 0) await scheduler.step();
    const during = runner.rowsPerStep.slice(before);
    const decodeOnly = runner.stepCost(4);
    for (const rows of during) expect(runner.stepCost(rows), `a step of ${rows} rows beside 4 decode rows`).toBeLessThanOrEqual(STALL_FACTOR * decodeOnly);
    // Measured costs (18 per decode step, about 2 per prompt row once the estimate settles) let up to 4 prompt rows in.
    expect(Math.max(...during), `rows per step ${during}`).toBeGreaterThanOrEqual(4 + 3);
    expect(first.produced.length + short.reduce((a, w) => a + w.produced.length, 0), 'the decoding sequences got a token every step').toBeGreaterThanOrEqual(4 * during.length);
  });

  it('while sequences decode, short prompts are prefilled whole in one step beside them; a long one still moves by its allowance', async () => {
    const { runner, scheduler } = setup(400, { stepTokens: 128 });
    const first = new Greedy(prompt(0, 5), 80);
    scheduler.add(first);
    while (first.produced.length === 0) await scheduler.step();
    for (let i = 0; i < 3; i++) await scheduler.step(); // decode-only steps: the allowance is measured
    // A burst of chat turns (SHORT_PROMPT_ROWS or fewer rows each) and one long prompt, all at once.
    const burst = [30, 40, 12, 20].map((n, i) => new Greedy(prompt(i + 1, n), 4));
    const long = new Greedy(prompt(9, 100), 2);
    for (const w of [...burst, long]) scheduler.add(w);
    const before = runner.steps;
    await scheduler.step();
    expect(runner.rowsPerStep.at(-1), 'one decode row, the four short prompts whole, at least one long row').toBeGreaterThanOrEqual(1 + 30 + 40 + 12 + 20 + 1);
    await scheduler.step();
    expect(burst.map((w) => w.produced.length > 0), 'every short prompt has its first token after its first step').toEqual([true, true, true, true]);
    while (long.produced.length === 0) await scheduler.step();
    expect(runner.steps - before, 'the long prompt was spread over steps').toBeGreaterThan(2);
  });

  it('with more decoding sequences than the budget, rows go round-robin and a waiting prompt still moves', async () => {
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
    // At least one prompt row a step: nine steps for nine rows, then its last row takes its turn among the decode rows.
    expect(runner.steps - before).toBeGreaterThanOrEqual(4);
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

  it('a sequence preempted while its prompt is still being prefilled is not in that step', async () => {
    // 7 blocks of 4. A (5-token prompt) decodes and grows a block at positions 8 and 12; B (newest, 13 tokens,
    // 4 blocks) prefills a row or so a step beside it, so at position 12 the only block left to take is B's.
    const { scheduler, runner, drain } = setup(7, { stepTokens: 2 });
    const a = new Greedy(prompt(1, 5), 10);
    const b = new Greedy(prompt(2, 13), 3);
    const sa = scheduler.add(a);
    await scheduler.step(); // A's prompt, 2 rows of 5
    const sb = scheduler.add(b);
    await drain();
    expect(sb.preemptions, 'B was preempted for A').toBeGreaterThan(0);
    expect([a.error, b.error], 'no step failed').toEqual([undefined, undefined]);
    expect(a.produced).toEqual(await alone(prompt(1, 5), 10));
    expect(b.produced).toEqual(await alone(prompt(2, 13), 3));
    expect([sa.preemptions, runner.blocks.inUse]).toEqual([0, 0]);
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
