// The scheduler's two bounds and its fairness.
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/engine/scheduler.ts';
import { AbortedError, BusyError, InvalidRequestError } from '../../src/engine/errors.ts';

describe('Scheduler', () => {
  it('reserves within the budget, queues past it, and says busy past the queue', async () => {
    const s = new Scheduler({ cacheBudgetBytes: 100, maxQueue: 1 });
    await s.reserve(60);
    const waiting = s.reserve(60);
    expect(s.queued).toBe(1);
    await expect(s.reserve(10)).rejects.toThrow(BusyError);
    s.release(60);
    await waiting;
    expect(s.cacheBytesInUse).toBe(60);
    s.release(60);
    expect(s.cacheBytesInUse).toBe(0);
  });
  it('a request larger than the whole budget is a client error, not busy', async () => {
    const s = new Scheduler({ cacheBudgetBytes: 100, maxQueue: 4 });
    await expect(s.reserve(101)).rejects.toThrow(InvalidRequestError);
  });
  it('an aborted waiter leaves the queue and reserves nothing', async () => {
    const s = new Scheduler({ cacheBudgetBytes: 100, maxQueue: 4 });
    await s.reserve(100);
    const abort = new AbortController();
    const waiting = s.reserve(50, abort.signal);
    abort.abort();
    await expect(waiting).rejects.toThrow(AbortedError);
    expect(s.queued).toBe(0);
    s.release(100);
    expect(s.cacheBytesInUse).toBe(0);
  });
  it('steps of concurrent requests interleave round-robin', async () => {
    const s = new Scheduler({ cacheBudgetBytes: 100, maxQueue: 4 });
    const order: string[] = [];
    const worker = async (name: string) => {
      for (let i = 0; i < 3; i++) await s.step(async () => { order.push(name); });
    };
    await Promise.all([worker('a'), worker('b'), worker('c')]);
    expect(order.join('')).toBe('abcabcabc');
  });
});
