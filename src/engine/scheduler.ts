// One model, many requests, one forward step at a time over all of them
// (design.md "Serving many users"; vLLM v1's sched/scheduler.py). A request
// is admitted — running — as soon as the latent cache has blocks for all its
// tokens (shared prefix blocks found first), with one block of growth kept
// free per running sequence; otherwise it waits, in arrival order, and past
// `maxQueue` waiting requests the next gets BusyError (HTTP 429). Each step
// takes a decode row from every running sequence and adds prefill chunks in
// admission order, up to a row budget: the whole rest when nothing decodes;
// while sequences decode, a short prompt (≤ SHORT_PROMPT_ROWS rows left) goes
// whole into the rows the decode rows leave, and longer ones only get as many
// rows as keep the step within 1.5× a decode-only step's time (step-timing.ts:
// a long prompt never stalls running streams, and a burst of chat requests is
// not queued behind it one row a step — vLLM's long_prefill_token_threshold).
//
// When blocks run out mid-generation, the newest running sequence is
// preempted: its blocks are released (full ones stay cached for reuse), and
// it goes back to the front of the queue; readmitted, it recomputes its
// prompt and the tokens it already produced (from cached prefix blocks where
// they survived) and carries on where it stopped. Nothing is lost or
// corrupted; its stream only pauses.
//
// Who runs is decided here; whether blocks are there, by the
// LatentCacheManager; the runner only sees rows, positions and block tables.
// Workers: nothing here resolves a promise another request waits on — state
// is plain data, and each request polls it on its own timers (generate.ts);
// whichever request finds work and no step running drives the next step.
import { BusyError, EngineClosedError, InvalidRequestError } from './errors.ts';
import type { LatentCacheManager, SequenceBlocks } from './latent-cache-manager.ts';
import type { ModelRunner } from './runner-types.ts';
import { StepTiming } from './step-timing.ts';

/**
 * While sequences decode, a prompt with at most this many rows to compute
 * (beyond its cached prefix) is prefilled whole in one step, beside the
 * decode rows: a chat turn's first token comes after one step, at the cost of
 * one longer step for the running streams; longer prompts are spread over
 * steps by their time allowance.
 */
export const SHORT_PROMPT_ROWS = 64;

/** What the scheduler runs for a request: its tokens, and what to do with the last one's logits. */
export interface SequenceWork {
  /** The prompt, then every token sampled so far; the last one is not in the cache yet. */
  readonly tokens: number[];
  /** The most positions it can come to hold (prompt + max_tokens − 1): it must fit the cache alone. */
  readonly maxPositions: number;
  /** The last token's logits: samples and appends the next token (true), or finishes (false). */
  accept(logits: Float32Array): boolean;
  /** The step this sequence was in failed, or the engine closed: it ends with this error. */
  fail(error: Error): void;
}

export type SequenceState = 'waiting' | 'running' | 'finished';

/** A request's place in the scheduler. */
export interface ScheduledSequence {
  readonly work: SequenceWork;
  readonly state: SequenceState;
  /** Prompt tokens served from cached prefix blocks at its first admission. */
  readonly cachedTokens: number;
  /** Times it was preempted (its cache freed and recomputed later). */
  readonly preemptions: number;
}

interface Entry extends ScheduledSequence {
  state: SequenceState;
  cachedTokens: number;
  preemptions: number;
  blocks: SequenceBlocks | null;
  /** Tokens whose latent rows are in the cache. */
  computed: number;
  /** Rows its prefill had to compute when it was (re)admitted: SHORT_PROMPT_ROWS or fewer makes it short. */
  prefillRows: number;
  admitted: boolean;
  /** Order of (re)admission: the newest running sequence is preempted first. */
  order: number;
  cancelled: boolean;
}

/** Rows [from, to) of a sequence in this step: its decode row, or a prefill chunk. */
interface Planned { entry: Entry; from: number; to: number; decode: boolean }

export interface SchedulerOptions {
  /** The most rows one forward step takes: decode rows and prefill chunks together. */
  stepTokens: number;
  /** Requests that may wait for admission; past it, BusyError. */
  maxQueue: number;
  /** The clock steps are timed with (tests give their own). Default performance.now. */
  now?: () => number;
}

export class Scheduler {
  private readonly waiting: Entry[] = [];
  private readonly running: Entry[] = [];
  private readonly cancelled: Entry[] = [];
  private stepping = false;
  private closed = false;
  private admissions = 0;
  private preempted = 0;
  private readonly timing = new StepTiming();
  private readonly now: () => number;
  /** Where the next step's decode rows start when there are more than fit (round-robin). */
  private cursor = 0;

  constructor(private readonly runner: ModelRunner, readonly cache: LatentCacheManager, private readonly options: SchedulerOptions) {
    if (!(Number.isInteger(options.stepTokens) && options.stepTokens >= 1)) throw new RangeError(`stepTokens must be a positive integer, got ${options.stepTokens}`);
    if (!(Number.isInteger(options.maxQueue) && options.maxQueue >= 0)) throw new RangeError(`maxQueue must be a non-negative integer, got ${options.maxQueue}`);
    this.now = options.now ?? (() => performance.now());
  }

  get runningCount(): number { return this.running.length; }
  get waitingCount(): number { return this.waiting.length; }
  /** Preemptions since the start (a sequence's cache freed for others, recomputed later). */
  get preemptions(): number { return this.preempted; }
  /** Whether a step is being computed now. */
  get busy(): boolean { return this.stepping; }
  /** performance.now() when the last step ended. */
  lastStepEnd = 0;
  /** Whether a step would do anything. */
  get hasWork(): boolean { return this.running.length > 0 || this.waiting.length > 0; }

  /** Admits a request at once when its blocks are there, else queues it; BusyError when the queue is full. */
  add(work: SequenceWork): ScheduledSequence {
    if (this.closed) throw new EngineClosedError();
    const blocks = this.cache.blocksFor(work.maxPositions);
    if (blocks > this.cache.pool.capacity) {
      throw new InvalidRequestError(
        `the request may need ${work.maxPositions} positions (${blocks} latent-cache blocks of ${this.cache.blockSize}), more than the engine's whole cache budget of ${this.cache.pool.capacity} blocks; lower max_tokens or the prompt length`,
        'max_tokens', 'context_length_exceeded');
    }
    const entry: Entry = {
      work, state: 'waiting', cachedTokens: 0, preemptions: 0, blocks: null, computed: 0, prefillRows: 0, admitted: false, order: 0, cancelled: false,
    };
    if (this.waiting.length === 0 && this.admit(entry)) return entry;
    if (this.waiting.length >= this.options.maxQueue) {
      throw new BusyError(`the engine is busy: ${this.running.length} sequences running, ${this.waiting.length} waiting (queue limit ${this.options.maxQueue}), ${this.cache.pool.inUse} of ${this.cache.pool.capacity} cache blocks in use; retry later`);
    }
    this.waiting.push(entry);
    return entry;
  }

  /** Ends a sequence (an abort): at once when no step is running, else when the running step ends. */
  cancel(sequence: ScheduledSequence): void {
    const entry = sequence as Entry;
    if (entry.state === 'finished' || entry.cancelled) return;
    entry.cancelled = true;
    if (this.stepping) this.cancelled.push(entry);
    else this.finish(entry);
  }

  /**
   * One forward step over every running sequence (and newly admitted ones):
   * samples each sequence that reached its last token. Call only when not busy.
   */
  async step(): Promise<void> {
    if (this.stepping) throw new Error('scheduler: a step is already running');
    if (this.closed) return;
    this.stepping = true;
    let plan: Planned[] = [];
    try {
      plan = this.plan();
      if (plan.length === 0) return;
      const rows = this.rowsOf(plan);
      const started = this.now();
      const logits = await this.runner.step(rows);
      const decodeRows = plan.filter((p) => p.decode).length;
      this.timing.observe(decodeRows, rows.ids.length - decodeRows, this.now() - started);
      const V = this.runner.config.vocabSize;
      let row = 0;
      for (const { entry, to } of plan) {
        entry.computed = to;
        this.cache.commit(entry.blocks!, entry.work.tokens, to);
        if (to < entry.work.tokens.length) continue;
        const own = logits.subarray(row * V, ++row * V);
        if (entry.cancelled || entry.state !== 'running') continue;
        let more = false;
        try {
          more = entry.work.accept(own);
        } catch (error) {
          entry.work.fail(error instanceof Error ? error : new Error(String(error)));
        }
        if (!more) this.finish(entry);
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const { entry } of plan) {
        if (entry.state === 'finished') continue;
        entry.work.fail(failure);
        this.finish(entry);
      }
    } finally {
      this.stepping = false;
      this.lastStepEnd = performance.now();
      for (const entry of this.cancelled.splice(0)) this.finish(entry);
    }
  }

  /** Fails every waiting and running sequence; steps do nothing afterwards. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.waiting, ...this.running]) {
      entry.work.fail(new EngineClosedError());
      entry.cancelled = true;
      if (!this.stepping) this.finish(entry);
      else this.cancelled.push(entry);
    }
  }

  /**
   * Gives a waiting sequence blocks for all its tokens (sharing cached prefix
   * blocks), keeping one block of growth free per running sequence. Safe
   * during a step: the step's rows hold their blocks.
   */
  private admit(entry: Entry): boolean {
    const opened = this.cache.open(entry.work.tokens, entry.work.tokens.length, this.running.length);
    if (!opened) return false;
    entry.blocks = opened.seq;
    entry.computed = opened.cachedTokens;
    entry.prefillRows = entry.work.tokens.length - entry.computed;
    if (!entry.admitted) entry.cachedTokens = opened.cachedTokens;
    entry.admitted = true;
    entry.state = 'running';
    entry.order = ++this.admissions;
    this.running.push(entry);
    return true;
  }

  private rowsOf(plan: Planned[]) {
    const ids: number[] = [];
    const positions: number[] = [];
    const tableStart: number[] = [];
    const blocks: number[] = [];
    const logitRows: number[] = [];
    for (const { entry, from, to } of plan) {
      const start = blocks.length;
      blocks.push(...entry.blocks!.table);
      for (let p = from; p < to; p++) {
        ids.push(entry.work.tokens[p]);
        positions.push(p);
        tableStart.push(start);
      }
      if (to === entry.work.tokens.length) logitRows.push(ids.length - 1);
    }
    return {
      ids: Int32Array.from(ids), positions: Int32Array.from(positions), tableStart: Int32Array.from(tableStart),
      blocks: Int32Array.from(blocks), logitRows: Int32Array.from(logitRows),
    };
  }

  /**
   * This step's rows, after admitting what the cache now has room for (in
   * arrival order): decode rows first (round-robin when more sequences decode
   * than fit), then prefill — the whole budget when nothing decodes; else
   * short prompts whole in the rows the decode rows leave, and long ones
   * (chunked, in admission order) what StepTiming allows.
   */
  private plan(): Planned[] {
    while (this.waiting.length > 0 && this.admit(this.waiting[0])) this.waiting.shift();
    const budget = this.options.stepTokens;
    const plan: Planned[] = [];
    const decoding = this.running.filter((e) => e.computed === e.work.tokens.length - 1);
    const prefilling = this.running.filter((e) => e.computed < e.work.tokens.length - 1);
    const rest = (e: Entry) => e.work.tokens.length - e.computed;
    const pending = prefilling.reduce((a, e) => a + rest(e), 0);
    // Rows left beside one row per decoding sequence (at least one).
    const room = budget - Math.min(decoding.length, budget - 1);
    const whole = new Set<Entry>();
    let shortRows = 0;
    if (decoding.length > 0) {
      for (const e of prefilling) {
        if (e.prefillRows <= SHORT_PROMPT_ROWS && shortRows + rest(e) <= room) { whole.add(e); shortRows += rest(e); }
      }
    }
    // Long prompts: what the time allowance gives, within the rows left (0 when none are).
    const longCap = Math.min(pending - shortRows, room - shortRows, this.timing.prefillAllowance(Math.min(decoding.length, budget - 1), budget - 1));
    const prefillCap = pending === 0 ? 0 : decoding.length === 0 ? budget : shortRows + longCap;
    const decodeCap = budget - prefillCap;
    const start = decoding.length > decodeCap ? this.cursor % decoding.length : 0;
    let used = 0;
    for (let i = 0; i < decoding.length && used < decodeCap; i++) {
      const entry = decoding[(start + i) % decoding.length];
      if (entry.state !== 'running') continue; // preempted for an earlier row of this step
      if (!this.grow(entry, entry.work.tokens.length, plan)) continue;
      plan.push({ entry, from: entry.computed, to: entry.work.tokens.length, decode: true });
      used++;
    }
    this.cursor = start + used;
    let prefill = used > 0 ? Math.min(longCap, budget - used - shortRows) : budget;
    for (const entry of prefilling) {
      if (entry.state !== 'running') continue; // preempted for a decode row of this step
      if (used > 0 && whole.has(entry)) {
        plan.push({ entry, from: entry.computed, to: entry.work.tokens.length, decode: false });
        continue;
      }
      if (prefill <= 0) continue;
      const to = Math.min(entry.work.tokens.length, entry.computed + prefill);
      plan.push({ entry, from: entry.computed, to, decode: false });
      prefill -= to - entry.computed;
    }
    return plan;
  }

  /**
   * Blocks for `entry` up to `positions`, preempting the newest running
   * sequences (this one last) until there are enough. False when this one
   * had to go.
   */
  private grow(entry: Entry, positions: number, plan: Planned[]): boolean {
    while (!this.cache.grow(entry.blocks!, positions)) {
      const victim = this.running.reduce((a, e) => (e.order > a.order ? e : a));
      const planned = plan.findIndex((p) => p.entry === victim);
      if (planned >= 0) plan.splice(planned, 1);
      this.preempt(victim);
      if (victim === entry) return false;
    }
    return true;
  }

  private preempt(entry: Entry): void {
    this.cache.close(entry.blocks!);
    entry.blocks = null;
    entry.computed = 0;
    entry.state = 'waiting';
    entry.preemptions++;
    this.preempted++;
    this.running.splice(this.running.indexOf(entry), 1);
    this.waiting.unshift(entry);
  }

  private finish(entry: Entry): void {
    if (entry.state === 'finished') return;
    if (entry.blocks) this.cache.close(entry.blocks);
    entry.blocks = null;
    const list = entry.state === 'running' ? this.running : this.waiting;
    const at = list.indexOf(entry);
    if (at >= 0) list.splice(at, 1);
    entry.state = 'finished';
  }
}
