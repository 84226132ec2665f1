// How many prompt rows a step may carry while other sequences decode, so that
// a long prompt never stalls running streams (Sarathi-Serve's chunked
// prefill, sized in time rather than in a fixed token count): a step with
// prefill rows should take about STALL_FACTOR × a decode-only step — 1.5, so
// that with a busy machine's noise the slowest steps (p95) stay within 2×. The
// costs are measured, not assumed — a decode-only step's time, and the time a
// prefill row adds — as moving averages over recent steps, so the same rule
// fits a 2.6 M-parameter model on a fast machine and a 16 B one on a slow one.

/** A step carrying prefill may take this many times a decode-only step. */
export const STALL_FACTOR = 1.5;
/** Weight of the newest step in the moving averages. */
const EMA = 0.3;

export class StepTiming {
  /** Moving average of decode-only steps, ms. */
  private decodeStepMs = NaN;
  /** Moving average of the time one prefill row adds to a step, ms. */
  private prefillRowMs = NaN;

  /** Records a step of `decodeRows` decode rows and `prefillRows` prefill rows that took `ms`. */
  observe(decodeRows: number, prefillRows: number, ms: number): void {
    if (prefillRows === 0) {
      if (decodeRows > 0) this.decodeStepMs = average(this.decodeStepMs, ms);
      return;
    }
    // Without decode rows the whole step is charged to its prefill rows: fixed costs included, an overestimate.
    const base = decodeRows > 0 && Number.isFinite(this.decodeStepMs) ? this.decodeStepMs : 0;
    this.prefillRowMs = average(this.prefillRowMs, Math.max(ms - base, 0) / prefillRows);
  }

  /**
   * Prefill rows for a step that also carries `decodeRows` decode rows (at
   * least one, at most `cap`). Until both costs are measured (or where the
   * clock stands still during compute, as on Workers): as many as decode
   * rows, which about doubles a step whose cost grows with its rows.
   */
  prefillAllowance(decodeRows: number, cap: number): number {
    const measured = this.decodeStepMs > 0 && Number.isFinite(this.prefillRowMs);
    const fits = !measured ? decodeRows
      : this.prefillRowMs === 0 ? cap
        : Math.floor(((STALL_FACTOR - 1) * this.decodeStepMs) / this.prefillRowMs);
    return Math.max(1, Math.min(cap, fits));
  }
}

function average(previous: number, value: number): number {
  return Number.isFinite(previous) ? previous + EMA * (value - previous) : value;
}
