// One model, many requests. Two bounds keep a busy engine from running out of
// memory: each request reserves its whole latent cache (capacity ×
// kvBytesPerToken) before it starts, within `cacheBudgetBytes`; requests that
// do not fit wait in a FIFO queue of at most `maxQueue`. Past both, a
// BusyError (HTTP 429). Running requests take forward steps in turn — a FIFO
// of steps, so each request's next step lines up behind everyone else's
// (round-robin, token by token) — and the event loop gets a turn before each
// step so streamed bytes go out while the model works.
//
// No request ever waits on a promise another request settles: Workers tie
// promises to the request that made them, and resolving one from another
// request's context cancels the waiting request as hung (leaving its
// reservation behind). Admission and steps only set flags; each waiter polls
// them on its own timers.
import { AbortedError, BusyError, EngineClosedError, InvalidRequestError } from './errors.ts';

export interface SchedulerOptions {
  /** Latent-cache bytes all running requests may reserve together. */
  cacheBudgetBytes: number;
  /** Requests that may wait for cache budget; past it, BusyError. */
  maxQueue: number;
}

interface Waiter {
  readonly bytes: number;
  /** Set by admitWaiting once the bytes are reserved for it. */
  admitted: boolean;
}

export class Scheduler {
  private inUse = 0;
  private readonly waiting: Waiter[] = [];
  /** Steps waiting for their turn, in order. */
  private readonly turns: object[] = [];
  private running = false;
  private lastYield = 0;
  private closed = false;

  constructor(private readonly options: SchedulerOptions) {
    if (!(options.cacheBudgetBytes > 0)) throw new RangeError(`cacheBudgetBytes must be positive, got ${options.cacheBudgetBytes}`);
    if (!(Number.isInteger(options.maxQueue) && options.maxQueue >= 0)) throw new RangeError(`maxQueue must be a non-negative integer, got ${options.maxQueue}`);
  }

  get cacheBytesInUse(): number { return this.inUse; }
  get cacheBudgetBytes(): number { return this.options.cacheBudgetBytes; }
  get queued(): number { return this.waiting.length; }

  /** Reserves `bytes` of cache, waiting in the queue if needed; release them with `release`. */
  async reserve(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new EngineClosedError();
    if (bytes > this.options.cacheBudgetBytes) {
      throw new InvalidRequestError(
        `the request needs ${bytes} bytes of latent cache, more than the engine's whole budget of ${this.options.cacheBudgetBytes}; lower max_tokens or the prompt length`,
        'max_tokens', 'context_length_exceeded');
    }
    if (signal?.aborted) throw new AbortedError();
    if (this.waiting.length === 0 && this.inUse + bytes <= this.options.cacheBudgetBytes) {
      this.inUse += bytes;
      return;
    }
    if (this.waiting.length >= this.options.maxQueue) {
      throw new BusyError(`the engine is busy: ${this.inUse} of ${this.options.cacheBudgetBytes} latent-cache bytes in use and ${this.waiting.length} requests waiting (queue limit ${this.options.maxQueue}); retry later`);
    }
    const waiter: Waiter = { bytes, admitted: false };
    this.waiting.push(waiter);
    for (let polls = 0; !waiter.admitted; polls++) {
      if (this.closed || signal?.aborted) {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        this.admitWaiting();
        throw this.closed ? new EngineClosedError() : new AbortedError();
      }
      // Quick turns first (admission usually follows a release within a step or two), then a slower poll.
      await (polls < 64 ? yieldToEventLoop() : sleep(Math.min(20, polls - 63)));
    }
  }

  release(bytes: number): void {
    this.inUse -= bytes;
    if (this.inUse < 0) throw new Error(`scheduler released more cache than was reserved (${this.inUse} bytes left)`);
    this.admitWaiting();
  }

  /**
   * Runs `work` when every step queued before it has finished, after giving
   * the event loop a turn. Waiting is by polling on the waiter's own timers,
   * never by a promise another request resolves: Workers tie promises and
   * timers to the request that made them, and a request waiting on another
   * request's promise can hang when that request stalls (a slow client).
   */
  async step<T>(work: () => Promise<T> | T): Promise<T> {
    if (this.closed) throw new EngineClosedError();
    const turn = {};
    this.turns.push(turn);
    let spins = 0;
    // Alone and recently yielded: go on without a macrotask hop (it costs as much as a small model's token).
    while (this.running || this.turns[0] !== turn || performance.now() - this.lastYield > YIELD_EVERY_MS) {
      // Spin on macrotasks while the holder computes; back off once it is waiting on I/O (a GPU readback).
      await (spins++ < 64 ? yieldToEventLoop() : sleep(1));
      this.lastYield = performance.now();
    }
    this.turns.shift();
    if (this.closed) throw new EngineClosedError();
    this.running = true;
    try {
      return await work();
    } finally {
      this.running = false;
    }
  }

  /** Resolves when no step is running or waiting. */
  async idle(): Promise<void> {
    while (this.running || this.turns.length > 0) await sleep(1);
  }

  /** Waiting requests fail with EngineClosedError at their next poll; running ones at their next step. */
  close(): void {
    this.closed = true;
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.inUse + this.waiting[0].bytes <= this.options.cacheBudgetBytes) {
      const waiter = this.waiting.shift()!;
      this.inUse += waiter.bytes;
      waiter.admitted = true;
    }
  }
}

type Immediate = (callback: () => void) => unknown;
const setImmediateIfAny = (globalThis as { setImmediate?: Immediate }).setImmediate;

/** The longest a run of steps goes without letting the event loop (I/O, other requests) in. */
const YIELD_EVERY_MS = 2;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A macrotask boundary: setImmediate where there is one (Node, Deno, workerd), else setTimeout(0). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (setImmediateIfAny) setImmediateIfAny(resolve);
    else setTimeout(resolve, 0);
  });
}
