// Figures of a set of concurrent streams (bench/serving.ts): aggregate decode
// rate in the window where every stream is decoding, time to first token,
// time per output token, inter-token latencies.

export interface Streamed {
  sentAt: number;
  arrivals: number[];
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface StreamStats {
  streams: number;
  /** Tokens per second summed over streams, counted while all of them decode (after the last first token, before the first stream ends). */
  aggregateTokS: number;
  ttftP50: number;
  ttftP95: number;
  /** Per stream (last − first) / (tokens − 1), ms. */
  tpotP50: number;
  tpotP95: number;
  /** Gaps between a stream's consecutive tokens, all streams pooled, ms. */
  itlP50: number;
  itlP95: number;
}

export function streamStats(streams: Streamed[]): StreamStats {
  const firsts = streams.map((s) => s.arrivals[0]);
  const lasts = streams.map((s) => s.arrivals[s.arrivals.length - 1]);
  const from = Math.max(...firsts);
  const to = Math.min(...lasts);
  let aggregateTokS: number;
  if (to > from) {
    let count = 0;
    for (const s of streams) for (const t of s.arrivals) if (t > from && t <= to) count++;
    aggregateTokS = count / ((to - from) / 1000);
  } else {
    // Streams that never all decoded at once: every decode token over the whole span.
    const tokens = streams.reduce((a, s) => a + s.arrivals.length - 1, 0);
    aggregateTokS = tokens / ((Math.max(...lasts) - Math.min(...firsts)) / 1000);
  }
  const ttft = streams.map((s) => s.arrivals[0] - s.sentAt);
  const tpot = streams.filter((s) => s.arrivals.length > 1).map((s) => (s.arrivals[s.arrivals.length - 1] - s.arrivals[0]) / (s.arrivals.length - 1));
  const itl = streams.flatMap((s) => s.arrivals.slice(1).map((t, i) => t - s.arrivals[i]));
  return {
    streams: streams.length, aggregateTokS,
    ttftP50: percentile(ttft, 50), ttftP95: percentile(ttft, 95),
    tpotP50: percentile(tpot, 50), tpotP95: percentile(tpot, 95),
    itlP50: percentile(itl, 50), itlP95: percentile(itl, 95),
  };
}
