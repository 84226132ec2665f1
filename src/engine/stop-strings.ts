// Stop strings are never emitted, even when the tokens split them: text that
// could still be the start of a stop string is held back until the next
// token decides it (llama.cpp's `find_partial_stop_string`, vLLM's
// detokenizer hold-back). The text ends at the earliest stop string in it, as
// if the whole text were searched at once: a stop string that completes
// first may still lose to a longer one that started before it (stops "b" and
// "abc" on "abc" end the text at "", not at "a"), so it is held too until
// that is decided.

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
    const cut = this.firstStop(text);
    const open = this.firstOpenStart(text);
    if (cut >= 0 && (open < 0 || cut <= open)) {
      this.held = '';
      return { text: text.slice(0, cut), stopped: true };
    }
    const keep = open < 0 ? text.length : open;
    this.held = text.slice(keep);
    return { text: text.slice(0, keep), stopped: false };
  }

  /**
   * Generation ended for another reason (end of text, length): the last
   * delta, then what was held — up to a stop string it holds, if any.
   */
  finish(delta = ''): StopScan {
    const text = this.held + delta;
    this.held = '';
    const cut = this.firstStop(text);
    return cut >= 0 ? { text: text.slice(0, cut), stopped: true } : { text, stopped: false };
  }

  /** Where the earliest complete stop string in `text` starts, or -1. */
  private firstStop(text: string): number {
    let cut = -1;
    for (const stop of this.stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    return cut;
  }

  /** The earliest position from which the rest of `text` is a proper prefix of some stop string (it may still complete), or -1. */
  private firstOpenStart(text: string): number {
    let open = -1;
    for (const stop of this.stops) {
      for (let at = Math.max(0, text.length - stop.length + 1); at < text.length && (open < 0 || at < open); at++) {
        if (stop.startsWith(text.slice(at))) { open = at; break; }
      }
    }
    return open;
  }
}
