// DeepSeekMoE router (MoEGate.forward, design.md "DeepSeekMoE"), per token:
// softmax over the expert logits in f32; greedy top-k, or group-limited
// (keep the topKGroups groups with the highest max score, zero the rest, then
// top-k); ties go to the lower index. Weights: divided by their sum (+1e-20)
// when k > 1 and normTopK, else multiplied by scale. The selection loop is
// written so a DeepSeek-V3 scorer (sigmoid + bias, noaux_tc) can slot in
// beside the softmax without touching top-k.

/** Index of the largest value among unmasked entries; strict > keeps the lower index on ties. */
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

export function moe_route(
  logits: usize, logitsStride: i32, T: i32, E: i32, k: i32,
  method: i32, groups: i32, topKGroups: i32, normTopK: i32, scale: f32,
  outIdx: usize, outW: usize, scratch: usize,
): void {
  const probs = scratch; //                      f32[E]
  const groupMax = scratch + (<usize>E << 2); //  f32[groups]
  const taken = groupMax + (<usize>groups << 2); // u8[max(E, groups)]
  for (let t = 0; t < T; t++) {
    const row = logits + ((<usize>t * <usize>logitsStride) << 2);
    let max: f32 = -Infinity;
    for (let e = 0; e < E; e++) max = Mathf.max(max, load<f32>(row + (<usize>e << 2)));
    let sum: f32 = 0;
    for (let e = 0; e < E; e++) {
      const v = Mathf.exp(load<f32>(row + (<usize>e << 2)) - max);
      store<f32>(probs + (<usize>e << 2), v);
      sum += v;
    }
    for (let e = 0; e < E; e++) store<f32>(probs + (<usize>e << 2), load<f32>(probs + (<usize>e << 2)) / sum);

    if (method == 1) {
      const size = E / groups;
      for (let g = 0; g < groups; g++) {
        let m: f32 = -Infinity;
        for (let i = 0; i < size; i++) m = Mathf.max(m, load<f32>(probs + (<usize>(g * size + i) << 2)));
        store<f32>(groupMax + (<usize>g << 2), m);
      }
      memory.fill(taken, 0, <usize>groups);
      for (let i = 0; i < topKGroups; i++) store<u8>(taken + <usize>argmaxUnmasked(groupMax, taken, groups), 1);
      // Experts of groups not kept score 0 (scores.masked_fill(~mask, 0.0)).
      for (let g = 0; g < groups; g++) {
        if (load<u8>(taken + <usize>g)) continue;
        for (let i = 0; i < size; i++) store<f32>(probs + (<usize>(g * size + i) << 2), 0);
      }
    }

    memory.fill(taken, 0, <usize>E);
    let total: f32 = 0;
    const idxRow = outIdx + ((<usize>t * <usize>k) << 2);
    const wRow = outW + ((<usize>t * <usize>k) << 2);
    for (let i = 0; i < k; i++) {
      const e = argmaxUnmasked(probs, taken, E);
      store<u8>(taken + <usize>e, 1);
      const w = load<f32>(probs + (<usize>e << 2));
      store<i32>(idxRow + (<usize>i << 2), e);
      store<f32>(wRow + (<usize>i << 2), w);
      total += w;
    }
    if (k > 1 && normTopK != 0) {
      const denominator = total + <f32>1e-20;
      for (let i = 0; i < k; i++) store<f32>(wRow + (<usize>i << 2), load<f32>(wRow + (<usize>i << 2)) / denominator);
    } else {
      for (let i = 0; i < k; i++) store<f32>(wRow + (<usize>i << 2), load<f32>(wRow + (<usize>i << 2)) * scale);
    }
  }
}
