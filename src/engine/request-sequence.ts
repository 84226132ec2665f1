// One request as the scheduler runs it: its tokens (prompt, then each sampled
// token), and what happens to the logits of its last token — sampled with
// the request's own sampler (its parameters, seed and penalties), checked
// against its stop rules, detokenized whole UTF-8 characters at a time with
// stop-string hold-back, and queued as events for the request to yield. It
// runs inside whichever request drives the step (plain data only: no
// promise crosses requests), so a request's end is known the step it happens.
import type { Tokenizer, IncrementalDecoder } from '../tokenizer/types.ts';
import type { Sampler, SampledToken } from './sampler.ts';
import type { ScheduledSequence, SequenceWork } from './scheduler.ts';
import { StopStringMatcher } from './stop-strings.ts';
import type { FinishEvent, GenerateEvent, TokenEvent, TokenLogprob } from './types.ts';

export interface RequestSequenceOptions {
  tokenizer: Tokenizer;
  promptIds: readonly number[];
  maxTokens: number;
  sampler: Sampler;
  stop: readonly string[];
  /** Logprobs to report with each token, when asked for. */
  report?: { topLogprobs: number };
}

export class RequestSequence implements SequenceWork {
  readonly tokens: number[];
  readonly maxPositions: number;
  /** Events made and not yet yielded, oldest first. */
  readonly events: GenerateEvent[] = [];
  /** No more events will come (a finish event is queued, or `error` is set). */
  done = false;
  error: Error | undefined;
  /** Its place in the scheduler, once queued (usage reports its cached prompt tokens). */
  scheduled: ScheduledSequence | undefined;
  private produced = 0;
  private readonly stopIds: ReadonlySet<number>;
  private readonly decoder: IncrementalDecoder;
  private readonly stops: StopStringMatcher;

  constructor(private readonly options: RequestSequenceOptions) {
    this.tokens = [...options.promptIds];
    // The last sampled token is never fed back.
    this.maxPositions = options.promptIds.length + options.maxTokens - 1;
    this.stopIds = new Set(options.tokenizer.stopIds);
    this.decoder = options.tokenizer.createDecoder({ skipSpecialTokens: true });
    this.stops = new StopStringMatcher(options.stop);
  }

  accept(logits: Float32Array): boolean {
    const { sampler, report, maxTokens } = this.options;
    const token = sampler.sample(logits, report);
    sampler.accept(token.id);
    const n = ++this.produced;
    if (this.stopIds.has(token.id)) return this.finish('stop', this.stops.finish(this.decoder.flush()).text);
    const scan = this.stops.push(this.decoder.push(token.id));
    const event: TokenEvent = { type: 'token', id: token.id, text: scan.text, ...this.logprobOf(token) };
    this.events.push(event);
    if (scan.stopped) return this.finish('stop');
    if (n >= maxTokens) {
      const tail = this.stops.finish(this.decoder.flush());
      return this.finish(tail.stopped ? 'stop' : 'length', tail.text);
    }
    this.tokens.push(token.id);
    return true;
  }

  fail(error: Error): void {
    if (this.done) return;
    this.error = error;
    this.done = true;
  }

  /** The request was aborted: ends with finish reason abort (nothing more is sampled). */
  abort(): void {
    if (!this.done) this.finish('abort');
  }

  private finish(reason: FinishEvent['reason'], text = ''): false {
    const promptTokens = this.options.promptIds.length;
    this.events.push({
      type: 'finish', reason, text,
      usage: {
        promptTokens, completionTokens: this.produced, totalTokens: promptTokens + this.produced,
        cachedTokens: this.scheduled?.cachedTokens ?? 0,
      },
    });
    this.done = true;
    return false;
  }

  private logprobOf(token: SampledToken): Pick<TokenEvent, 'logprob'> {
    if (token.logprob === undefined) return {};
    const tokenizer = this.options.tokenizer;
    const describe = (id: number, logprob: number): TokenLogprob => {
      const bytes = tokenizer.tokenBytes(id);
      return { id, logprob, token: new TextDecoder().decode(bytes), bytes: Array.from(bytes) };
    };
    return { logprob: { ...describe(token.id, token.logprob), top: (token.top ?? []).map((t) => describe(t.id, t.logprob)) } };
  }
}
