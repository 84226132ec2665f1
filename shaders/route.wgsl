// DeepSeekMoE gating (MoEGate.forward) for decode, selecting exactly what
// the CPU gating selects: scores = softmax(logits) in f32; `greedy` takes the
// top-k scores; `group_limited_greedy` keeps the topKGroups groups with the
// highest max score, sets the other scores to 0, then takes the top-k. Ties
// go to the lower index (a strict > scan). Weights: divided by their sum +
// 1e-20 when k > 1 and normTopKProb, else multiplied by routedScalingFactor.
//
// Output: the route plan buffer (src/backend/webgpu/moe-plan.ts), in slot
// order s = t·k + j, one tile per slot:
//   experts[s], weights[s], rowToken[s] = t, tokenRows[s] = s, tiles[s] = (s, 1, e)
//
// Bindings (group 0):
//   0 p:      uniform Params
//   1 logits: storage read f32, row t at lOff + t·lStride, E values
//   2 plan:   storage rw   u32 plan words
// Workgroup: 64 invocations, one per token (E ≤ 256, groups ≤ 64).

struct Params {
  T: u32, E: u32, k: u32, method: u32,
  groups: u32, topKGroups: u32, norm: u32, scale: f32,
  lOff: u32, lStride: u32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> plan: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= p.T) { return; }
  let E = p.E;
  let S = p.T * p.k;
  var scores: array<f32, 256>;
  var taken: array<bool, 256>;
  let lb = p.lOff + t * p.lStride;
  var mx = logits[lb];
  for (var e = 1u; e < E; e++) { mx = max(mx, logits[lb + e]); }
  var sum = 0.0;
  for (var e = 0u; e < E; e++) {
    let v = exp(logits[lb + e] - mx);
    scores[e] = v;
    sum += v;
  }
  for (var e = 0u; e < E; e++) { scores[e] = scores[e] / sum; taken[e] = false; }

  if (p.method == 1u) {
    let size = E / p.groups;
    var gmax: array<f32, 64>;
    var keep: array<bool, 64>;
    for (var g = 0u; g < p.groups; g++) {
      var v = scores[g * size];
      for (var i = 1u; i < size; i++) { v = max(v, scores[g * size + i]); }
      gmax[g] = v;
      keep[g] = false;
    }
    for (var j = 0u; j < p.topKGroups; j++) {
      var best = 0xffffffffu;
      for (var g = 0u; g < p.groups; g++) {
        if (!keep[g] && (best == 0xffffffffu || gmax[g] > gmax[best])) { best = g; }
      }
      keep[best] = true;
    }
    for (var e = 0u; e < E; e++) {
      if (!keep[e / size]) { scores[e] = 0.0; }
    }
  }

  var picked: array<u32, 64>;
  var total = 0.0;
  for (var j = 0u; j < p.k; j++) {
    var best = 0xffffffffu;
    for (var e = 0u; e < E; e++) {
      if (!taken[e] && (best == 0xffffffffu || scores[e] > scores[best])) { best = e; }
    }
    taken[best] = true;
    picked[j] = best;
    total += scores[best];
  }
  for (var j = 0u; j < p.k; j++) {
    let s = t * p.k + j;
    let e = picked[j];
    var wgt = scores[e] * p.scale;
    if (p.k > 1u && p.norm == 1u) { wgt = scores[e] / (total + 1e-20); }
    plan[s] = e;
    plan[S + s] = bitcast<u32>(wgt);
    plan[2u * S + s] = t;
    plan[3u * S + s] = s;
    plan[4u * S + 3u * s] = s;
    plan[4u * S + 3u * s + 1u] = 1u;
    plan[4u * S + 3u * s + 2u] = e;
  }
}
