// DeepSeekMoE router (MoEGate.forward, design.md "DeepSeekMoE"), per token row,
// all in f32 (contract: src/backend/cpu/kernel-exports.ts, moe_route):
//   scores  s = softmax(logits) (V2) or sigmoid(logits) (V3);
//   choice  c = s, or s + e_score_correction_bias for noaux_tc (V3);
//   groups  group_limited_greedy: a group scores its max c, the topKGroups best
//           are kept and the others' c set to 0 (HF's masked_fill 0.0);
//           noaux_tc with groups > 1: a group scores the sum of its two highest
//           c, the others are masked out of the choice altogether (DeepSeek-V3's
//           inference Gate, llama.cpp and vLLM fill −inf);
//   top-k   experts by c, ties to the lower index;
//   weights the unbiased s of the chosen experts: divided by their sum + 1e-20
//           when k > 1 and normTopK; then multiplied by scale — for noaux_tc
//           always (V3 normalises and scales), else only when not normalised.

const SIGMOID = 1;
const GROUP_LIMITED_GREEDY = 1;
const NOAUX_TC = 2;

/** Index of the largest value among entries not taken; strict > keeps the lower index on ties. */
@inline function argmaxUnmasked(values: usize, taken: usize, n: i32): i32 {
  let best = -1;
  let bestValue: f32 = -Infinity;
  for (let i = 0; i < n; i++) {
    if (load<u8>(taken + <usize>i)) continue;
    const v = load<f32>(values + (<usize>i << 2));
    if (best < 0 || v > bestValue) { best = i; bestValue = v; }
  }
  return best;
}

/** 1/(1+e^−x), written so exp's argument is never positive (no overflow for any logit). */
@inline function sigmoid(x: f32): f32 {
  if (x >= 0) return <f32>1 / (<f32>1 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (<f32>1 + e);
}

/** scores[e] = softmax(row)[e] or sigmoid(row[e]) for e < E. */
function scoreRow(row: usize, E: i32, scoring: i32, scores: usize): void {
  if (scoring == SIGMOID) {
    for (let e = 0; e < E; e++) store<f32>(scores + (<usize>e << 2), sigmoid(load<f32>(row + (<usize>e << 2))));
    return;
  }
  let max: f32 = -Infinity;
  for (let e = 0; e < E; e++) max = Mathf.max(max, load<f32>(row + (<usize>e << 2)));
  let sum: f32 = 0;
  for (let e = 0; e < E; e++) {
    const v = Mathf.exp(load<f32>(row + (<usize>e << 2)) - max);
    store<f32>(scores + (<usize>e << 2), v);
    sum += v;
  }
  for (let e = 0; e < E; e++) store<f32>(scores + (<usize>e << 2), load<f32>(scores + (<usize>e << 2)) / sum);
}

/**
 * Keeps the topKGroups best of `groups` equal groups of choice[E] (group score:
 * the max, or the sum of the two largest for noaux_tc). Experts of the other
 * groups get choice 0 (group_limited_greedy) or are marked taken (noaux_tc).
 */
function limitGroups(
  choice: usize, taken: usize, E: i32, method: i32, groups: i32, topKGroups: i32, groupScore: usize, kept: usize,
): void {
  const size = E / groups;
  for (let g = 0; g < groups; g++) {
    let first: f32 = -Infinity;
    let second: f32 = -Infinity;
    for (let i = 0; i < size; i++) {
      const v = load<f32>(choice + (<usize>(g * size + i) << 2));
      if (v > first) { second = first; first = v; } else if (v > second) second = v;
    }
    store<f32>(groupScore + (<usize>g << 2), method == NOAUX_TC ? first + second : first);
  }
  memory.fill(kept, 0, <usize>groups);
  for (let i = 0; i < topKGroups; i++) store<u8>(kept + <usize>argmaxUnmasked(groupScore, kept, groups), 1);
  for (let g = 0; g < groups; g++) {
    if (load<u8>(kept + <usize>g)) continue;
    for (let i = 0; i < size; i++) {
      const e = <usize>(g * size + i);
      if (method == NOAUX_TC) store<u8>(taken + e, 1);
      else store<f32>(choice + (e << 2), 0);
    }
  }
}

export function moe_route(
  logits: usize, logitsStride: i32, T: i32, E: i32, k: i32,
  scoring: i32, method: i32, groups: i32, topKGroups: i32, normTopK: i32, scale: f32, bias: usize,
  outIdx: usize, outW: usize, scratch: usize,
): void {
  const scores = scratch; //                               f32[E]
  const biased = scores + (<usize>E << 2); //               f32[E] (noaux_tc's choice)
  const groupScore = biased + (<usize>E << 2); //          f32[groups]
  const kept = groupScore + (<usize>groups << 2); //        u8[groups]
  const taken = kept + <usize>groups; //                     u8[E]
  // Without a bias the choice is the scores themselves (group_limited_greedy's
  // zeroing then also zeroes the weight, as HF's masked score does).
  const choice = method == NOAUX_TC ? biased : scores;
  const normalize = k > 1 && normTopK != 0;
  const scaled = method == NOAUX_TC || !normalize;
  for (let t = 0; t < T; t++) {
    scoreRow(logits + ((<usize>t * <usize>logitsStride) << 2), E, scoring, scores);
    if (method == NOAUX_TC) {
      for (let e = 0; e < E; e++) {
        const at = <usize>e << 2;
        store<f32>(biased + at, load<f32>(scores + at) + load<f32>(bias + at));
      }
    }
    memory.fill(taken, 0, <usize>E);
    if (method == GROUP_LIMITED_GREEDY || (method == NOAUX_TC && groups > 1)) {
      limitGroups(choice, taken, E, method, groups, topKGroups, groupScore, kept);
    }

    let total: f32 = 0;
    const idxRow = outIdx + ((<usize>t * <usize>k) << 2);
    const wRow = outW + ((<usize>t * <usize>k) << 2);
    for (let i = 0; i < k; i++) {
      const e = argmaxUnmasked(choice, taken, E);
      store<u8>(taken + <usize>e, 1);
      const w = load<f32>(scores + (<usize>e << 2));
      store<i32>(idxRow + (<usize>i << 2), e);
      store<f32>(wRow + (<usize>i << 2), w);
      total += w;
    }
    const denominator = total + <f32>1e-20;
    for (let i = 0; i < k; i++) {
      let w = load<f32>(wRow + (<usize>i << 2));
      if (normalize) w = w / denominator;
      if (scaled) w = w * scale;
      store<f32>(wRow + (<usize>i << 2), w);
    }
  }
}
