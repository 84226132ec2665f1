// Stop strings are never emitted, even when the tokens split them: text that
// could still be the start of a stop string is held back until the next
// token decides it (llama.cpp's `find_partial_stop_string`, vLLM's
// detokenizer hold-back).

export interface StopScan {
  /** Text safe to emit now. */
  text: string;
  /** A stop string completed; `text` is everything before it. */
  stopped: boolean;
}

export class StopStringMatcher {
  private held = '';
  private readonly stops: string[];

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  push(delta: string): StopScan {
    if (this.stops.length === 0) return { text: delta, stopped: false };
    const text = this.held + delta;
    let cut = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.held = '';
      return { text: text.slice(0, cut), stopped: true };
    }
    const keep = this.partialSuffix(text);
    this.held = text.slice(text.length - keep);
    return { text: text.slice(0, text.length - keep), stopped: false };
  }

  /** What was held back, released when generation ends for another reason. */
  flush(): string {
    const text = this.held;
    this.held = '';
    return text;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
  private partialSuffix(text: string): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > best; n--) {
        if (text.endsWith(stop.slice(0, n))) { best = n; break; }
      }
    }
    return best;
  }
}
