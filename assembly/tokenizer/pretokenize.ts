// The DeepSeek pre-tokenizers: HF `Sequence` of `Split` (behavior Isolated)
// steps, run exactly as HF runs them — each regex over each piece the
// previous steps left, its matches and the gaps between them becoming pieces.
// A piece boundary is a 1 in the cuts array (one byte per code point); a step
// only adds cuts inside the piece it scans, so steps refine in place.
//
// deepseek-llm (DeepSeek-LLM / V2 / V2.5):
//   [\r\n] | \s?[LETTERS]+ | \s?[PUNCT]+ | \s+$ | [CJK]+ | \p{N}+
// deepseek-v3:
//   \p{N}{1,3} | [一-龥぀-ゟ゠-ヿ]+ | MAIN (six alternatives, see scanMainV3)
import {
  CTX_CUTS, CTX_FLAGS, F_ALPHA, F_APUNCT, F_CLASS_A, F_CLASS_B, F_CLASS_C, F_CRLF, F_L, F_M, F_N,
  F_P, F_S, F_SPACE, F_WS, PATTERN_DEEPSEEK_LLM, field,
} from './context';

const STEP_ISOLATE: u32 = 0;  // [X]: each such code point alone
const STEP_OPT_WS_RUN: u32 = 1; // \s?[X]+
const STEP_TRAILING_WS: u32 = 2; // \s+$
const STEP_RUN: u32 = 3;      // [X]+
const STEP_RUN_MAX3: u32 = 4; // [X]{1,3}
const STEP_MAIN_V3: u32 = 5;

@inline function flagAt(flags: usize, i: u32): u32 {
  return <u32>load<u16>(flags + (<usize>i << 1));
}

@inline function runEnd(flags: usize, i: u32, e: u32, x: u32): u32 {
  while (i < e && (flagAt(flags, i) & x) != 0) i++;
  return i;
}

/** The next cut after s (or n), 16 cut bytes at a time. */
function nextCut(cuts: usize, s: u32, n: u32): u32 {
  let i = s + 1;
  while (i + 16 <= n) {
    const mask = <u32>i8x16.bitmask(i8x16.ne(v128.load(cuts + i), i8x16.splat(0)));
    if (mask != 0) return i + ctz<u32>(mask);
    i += 16;
  }
  while (i < n && load<u8>(cuts + i) == 0) i++;
  return i;
}

// [!-/...][A-Za-z]+ | [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ | ?[\p{P}\p{S}]+[\r\n]*
// | \s*[\r\n]+ | \s+(?!\S) | \s+ — the first alternative that matches at i
// wins (backtracking semantics); returns the match end, or i for no match.
function matchMainV3(flags: usize, i: u32, e: u32): u32 {
  const f0 = flagAt(flags, i);
  const f1: u32 = i + 1 < e ? flagAt(flags, i + 1) : 0;
  if ((f0 & F_APUNCT) != 0 && (f1 & F_ALPHA) != 0) return runEnd(flags, i + 1, e, F_ALPHA);
  const letter: u32 = F_L | F_M;
  if ((f0 & (F_CRLF | F_L | F_P | F_S)) == 0 && (f1 & letter) != 0) return runEnd(flags, i + 1, e, letter);
  if ((f0 & letter) != 0) return runEnd(flags, i, e, letter);
  const punct: u32 = F_P | F_S;
  let j = i;
  if ((f0 & F_SPACE) != 0 && (f1 & punct) != 0) j = i + 1;
  if ((flagAt(flags, j) & punct) != 0 && j < e) {
    return runEnd(flags, runEnd(flags, j, e, punct), e, F_CRLF);
  }
  if ((f0 & F_WS) == 0) return i;
  const wsEnd = runEnd(flags, i, e, F_WS);
  // \s*[\r\n]+: the greedy \s* gives back up to the last CR/LF of the run.
  for (let k = wsEnd; k > i; k--) {
    if ((flagAt(flags, k - 1) & F_CRLF) != 0) return k;
  }
  // \s+(?!\S): the whole run at the piece's end, else all but its last space.
  if (wsEnd == e || wsEnd - i == 1) return wsEnd;
  return wsEnd - 1;
}

function matchAt(step: u32, x: u32, flags: usize, i: u32, e: u32): u32 {
  const f0 = flagAt(flags, i);
  if (step == STEP_ISOLATE) return (f0 & x) != 0 ? i + 1 : i;
  if (step == STEP_RUN) return runEnd(flags, i, e, x);
  if (step == STEP_RUN_MAX3) {
    let j = i;
    while (j < e && j < i + 3 && (flagAt(flags, j) & x) != 0) j++;
    return j;
  }
  if (step == STEP_OPT_WS_RUN) {
    if ((f0 & F_WS) != 0 && i + 1 < e && (flagAt(flags, i + 1) & x) != 0) return runEnd(flags, i + 1, e, x);
    return runEnd(flags, i, e, x);
  }
  return matchMainV3(flags, i, e);
}

function applyStep(ctx: usize, n: u32, step: u32, x: u32): void {
  const flags = field(ctx, CTX_FLAGS);
  const cuts = field(ctx, CTX_CUTS);
  let s: u32 = 0;
  while (s < n) {
    const e = nextCut(cuts, s, n);
    if (step == STEP_TRAILING_WS) {
      // \s+$: the leftmost match is the maximal whitespace run ending the piece.
      let k = e;
      while (k > s && (flagAt(flags, k - 1) & F_WS) != 0) k--;
      if (k < e) { store<u8>(cuts + k, 1); }
      s = e;
      continue;
    }
    let i = s;
    while (i < e) {
      const m = matchAt(step, x, flags, i, e);
      if (m == i) { i++; continue; }
      store<u8>(cuts + i, 1);
      store<u8>(cuts + m, 1);
      i = m;
    }
    s = e;
  }
}

/** Marks piece starts in cuts[0..n] for the context's pattern; cuts[n] = 1. */
export function pretokenize(ctx: usize, n: u32, pattern: u32): void {
  const cuts = field(ctx, CTX_CUTS);
  memory.fill(cuts, 0, n + 1);
  store<u8>(cuts, 1);
  store<u8>(cuts + n, 1);
  if (pattern == PATTERN_DEEPSEEK_LLM) {
    applyStep(ctx, n, STEP_ISOLATE, F_CRLF);
    applyStep(ctx, n, STEP_OPT_WS_RUN, F_CLASS_A);
    applyStep(ctx, n, STEP_OPT_WS_RUN, F_CLASS_B);
    applyStep(ctx, n, STEP_TRAILING_WS, 0);
    applyStep(ctx, n, STEP_RUN, F_CLASS_C);
    applyStep(ctx, n, STEP_RUN, F_N);
  } else {
    applyStep(ctx, n, STEP_RUN_MAX3, F_N);
    applyStep(ctx, n, STEP_RUN, F_CLASS_A);
    applyStep(ctx, n, STEP_MAIN_V3, 0);
  }
}
