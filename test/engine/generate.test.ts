// The engine over TEST-ONLY doubles (support/fake-model.ts): events, UTF-8
// safety, stop strings, limits, abort and concurrency, checked exactly.
import { describe, expect, it } from 'vitest';
import { engineFromParts } from '../../src/engine/engine.ts';
import { BusyError, ContextLengthError } from '../../src/engine/errors.ts';
import type { Engine, GenerateEvent, GenerateRequest } from '../../src/engine/types.ts';
import { FakeRunner, FakeTokenizer } from './support/fake-model.ts';

async function collect(engine: Engine, request: GenerateRequest) {
  const events: GenerateEvent[] = [];
  for await (const e of engine.generate(request)) events.push(e);
  const tokens = events.filter((e) => e.type === 'token');
  const finish = events.at(-1)!;
  if (finish.type !== 'finish') throw new Error('no finish event');
  return { events, deltas: tokens.map((t) => t.text), text: tokens.map((t) => t.text).join('') + finish.text, finish };
}

// ids: 2 a, 3 b, 4 c, 5 ' ', 6 S, 7 T, 8 O, 9 P, 10+11 中, 12+13 😀, 0 EOS
describe('engine.generate (fake model)', () => {
  it('streams whole characters only, even when a character spans tokens', async () => {
    const engine = engineFromParts(new FakeRunner([2, 10, 11, 12, 13, 3, 0]), new FakeTokenizer());
    const out = await collect(engine, { prompt: 'ab', maxTokens: 20 });
    expect(out.text).toBe('a中😀b');
    for (const d of out.deltas) expect(d).not.toMatch(/\uFFFD/);
    expect(out.deltas).toEqual(['a', '', '中', '', '😀', 'b']);
    expect(out.finish.reason).toBe('stop');
    expect(out.finish.usage).toEqual({ promptTokens: 3, completionTokens: 7, totalTokens: 10, cachedTokens: 0 });
  });
  it('never emits a stop string split across tokens, and stops there', async () => {
    const engine = engineFromParts(new FakeRunner([2, 6, 7, 8, 9, 3, 3]), new FakeTokenizer());
    const out = await collect(engine, { prompt: 'a', maxTokens: 20, stop: ['STOP'] });
    expect(out.text).toBe('a');
    expect(out.deltas.join('')).not.toContain('S');
    expect(out.finish.reason).toBe('stop');
  });
  it('releases held-back text that was not a stop string when max_tokens ends generation', async () => {
    const engine = engineFromParts(new FakeRunner([2, 6, 7]), new FakeTokenizer());
    const out = await collect(engine, { prompt: 'a', maxTokens: 3, stop: ['STOP'] });
    expect(out.text).toBe('aST');
    expect(out.finish).toMatchObject({ reason: 'length', text: 'ST' });
  });
  it('max_tokens ends with finish reason length and exact usage', async () => {
    const engine = engineFromParts(new FakeRunner(), new FakeTokenizer());
    const out = await collect(engine, { prompt: 'abc', maxTokens: 5, temperature: 0 });
    expect(out.events.filter((e) => e.type === 'token')).toHaveLength(5);
    expect(out.finish.reason).toBe('length');
    expect(out.finish.usage.completionTokens).toBe(5);
  });
  it('prompt + max_tokens past the context is a ContextLengthError before any cache is reserved', async () => {
    const engine = engineFromParts(new FakeRunner(undefined, 16), new FakeTokenizer());
    await expect(collect(engine, { prompt: 'abc', maxTokens: 13 })).rejects.toThrow(ContextLengthError);
    await expect(collect(engine, { prompt: 'a'.repeat(16) })).rejects.toThrow(/context is 16 tokens/);
    expect(engine.cacheBytesInUse).toBe(0);
  });
  it('same seed ⇒ same tokens', async () => {
    const engine = engineFromParts(new FakeRunner(), new FakeTokenizer());
    const a = await collect(engine, { prompt: 'abc', maxTokens: 12, temperature: 1, seed: 9 });
    const b = await collect(engine, { prompt: 'abc', maxTokens: 12, temperature: 1, seed: 9 });
    expect(b.events).toEqual(a.events);
  });
  it('abort stops within one token and returns the cache to baseline', async () => {
    const runner = new FakeRunner();
    const engine = engineFromParts(runner, new FakeTokenizer());
    const abort = new AbortController();
    let tokens = 0;
    let forwardsAtAbort = 0;
    let last: GenerateEvent | undefined;
    for await (const e of engine.generate({ prompt: 'abc', maxTokens: 50, temperature: 0, signal: abort.signal })) {
      last = e;
      if (e.type === 'token' && ++tokens === 3) {
        expect(engine.cacheBytesInUse).toBeGreaterThan(0);
        abort.abort();
        forwardsAtAbort = runner.steps;
      }
    }
    expect(last).toMatchObject({ type: 'finish', reason: 'abort' });
    expect(runner.steps - forwardsAtAbort).toBeLessThanOrEqual(1);
    expect(engine.cacheBytesInUse).toBe(0);
    expect(runner.blocks.inUse).toBe(0);
  });
  it('breaking out of the loop also frees the sequence and its budget', async () => {
    const runner = new FakeRunner();
    const engine = engineFromParts(runner, new FakeTokenizer());
    for await (const e of engine.generate({ prompt: 'abc', maxTokens: 50, temperature: 0 })) if (e.type === 'token') break;
    expect(engine.cacheBytesInUse).toBe(0);
    expect(runner.blocks.inUse).toBe(0);
  });
  it('concurrent seeded requests give the same results as sequential ones, interleaved token by token', async () => {
    const runner = new FakeRunner();
    const engine = engineFromParts(runner, new FakeTokenizer());
    const requests = Array.from({ length: 8 }, (_, i) => ({ prompt: 'ab'.slice(0, 1 + (i % 2)), maxTokens: 6 + i, temperature: 0.8, seed: i }));
    const sequential: string[] = [];
    for (const r of requests) sequential.push((await collect(engine, r)).text);
    const concurrent = await Promise.all(requests.map(async (r) => (await collect(engine, r)).text));
    expect(concurrent).toEqual(sequential);
    expect(engine.cacheBytesInUse).toBe(0);
  });
  it('past the cache budget and the queue, a BusyError', async () => {
    const runner = new FakeRunner();
    runner.delayMs = 2;
    // Blocks of 4 positions × 25 bytes: a budget of 4 blocks. A prompt of 8 tokens takes 2 blocks at
    // admission, and the second would leave no block of growth for the first: it waits; the queue holds one.
    const engine = engineFromParts(runner, new FakeTokenizer(), { cacheBudgetBytes: 400, maxQueue: 1 });
    const results = await Promise.allSettled([0, 1, 2].map((seed) => collect(engine, { prompt: 'abcabca', maxTokens: 5, temperature: 1, seed })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(BusyError);
    expect(engine.cacheBytesInUse).toBe(0);
  });
});

describe('engine.generate: abort while queued', () => {
  it('a request aborted while waiting for cache blocks ends with finish reason abort and reserves nothing', async () => {
    const runner = new FakeRunner();
    runner.delayMs = 2;
    const engine = engineFromParts(runner, new FakeTokenizer(), { cacheBudgetBytes: 400, maxQueue: 4 });
    const first = collect(engine, { prompt: 'abcabca', maxTokens: 5, temperature: 0 });
    const abort = new AbortController();
    const second = collect(engine, { prompt: 'abcabca', maxTokens: 5, temperature: 0, signal: abort.signal });
    // Both were queued when their first next() ran: the first holds 2 of the 4 blocks, the second waits.
    expect(engine.queued).toBe(1);
    abort.abort();
    expect((await second).finish).toMatchObject({ reason: 'abort', usage: { completionTokens: 0 } });
    expect(engine.queued).toBe(0);
    await first;
    expect(engine.cacheBytesInUse).toBe(0);
  });
});
