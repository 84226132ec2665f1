// DeepSeekMoE gating (MoEGate.forward) for every row of a step, selecting
// exactly what the CPU gating (assembly/moe/gating.ts) selects, then grouping
// the selection by expert — all on the GPU, so a forward step needs no
// read-back before its logits. main: the rule is GatingParams' in
// src/backend/backend.ts:
//   scores s = softmax(logits) (scoring 0) or sigmoid(logits) (scoring 1), f32;
//   choice c = s, or s + bias for noaux_tc (method 2);
//   group_limited_greedy (method 1): a group scores its max c, the topKGroups
//     best groups are kept, the other experts' c (and s) set to 0;
//   noaux_tc with groups > 1: a group scores the sum of its two largest c, the
//     other groups' experts are never chosen;
//   top-k of c, ties to the lower index (a strict > scan); weights are the
//   chosen s: divided by their sum + 1e-20 when k > 1 and norm, then times
//   scale — always for noaux_tc, else only when not normalised.
//
// main writes experts[s] and weights[s] of the route plan
// (src/backend/webgpu/moe-plan.ts) in slot order s = t·k + j. Workgroup: 64
// invocations, one per token (E ≤ 256, groups ≤ 64).
// group: the plan's rows sorted by expert, stable in slot order (what the
// CPU's moe_group does): invocation e lists expert e's slots, gives them rows
// (rowToken, tokenRows) after the experts before it, and writes its tiles of
// ≤ TILE rows; the tile count goes to plan[4S]. One workgroup of 256
// invocations (E ≤ 256). An expert's weights are then read once per tile of
// its rows, for a decode batch and a prefill chunk alike.
//
// Bindings (group 0):
//   0 p:      uniform Params
//   1 logits: storage read f32, row t at lOff + t·lStride, E values (main)
//   2 plan:   storage rw   u32 plan words
//   3 bias:   storage read f32[E], e_score_correction_bias (main; read only by noaux_tc)

struct Params {
  T: u32, E: u32, k: u32, method: u32,
  groups: u32, topKGroups: u32, norm: u32, scale: f32,
  lOff: u32, lStride: u32, scoring: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> plan: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;

const GROUP_LIMITED_GREEDY = 1u;
const NOAUX_TC = 2u;
const TILE = 16u; // moe-plan.ts TILE_ROWS

// 1/(1+e^−x) with exp's argument never positive (no overflow for any logit).
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= p.T) { return; }
  let E = p.E;
  let S = p.T * p.k;
  var scores: array<f32, 256>;
  var choice: array<f32, 256>;
  var taken: array<bool, 256>;
  let lb = p.lOff + t * p.lStride;
  if (p.scoring == 1u) {
    for (var e = 0u; e < E; e++) { scores[e] = sigmoid(logits[lb + e]); }
  } else {
    var mx = logits[lb];
    for (var e = 1u; e < E; e++) { mx = max(mx, logits[lb + e]); }
    var sum = 0.0;
    for (var e = 0u; e < E; e++) {
      let v = exp(logits[lb + e] - mx);
      scores[e] = v;
      sum += v;
    }
    for (var e = 0u; e < E; e++) { scores[e] = scores[e] / sum; }
  }
  for (var e = 0u; e < E; e++) {
    choice[e] = scores[e];
    if (p.method == NOAUX_TC) { choice[e] = scores[e] + bias[e]; }
    taken[e] = false;
  }

  if (p.method == GROUP_LIMITED_GREEDY || (p.method == NOAUX_TC && p.groups > 1u)) {
    let size = E / p.groups;
    var gscore: array<f32, 64>;
    var keep: array<bool, 64>;
    for (var g = 0u; g < p.groups; g++) {
      var first = choice[g * size];
      var second = -3.0e38;
      for (var i = 1u; i < size; i++) {
        let v = choice[g * size + i];
        if (v > first) { second = first; first = v; } else if (v > second) { second = v; }
      }
      gscore[g] = first;
      if (p.method == NOAUX_TC) { gscore[g] = first + second; }
      keep[g] = false;
    }
    for (var j = 0u; j < p.topKGroups; j++) {
      var best = 0xffffffffu;
      for (var g = 0u; g < p.groups; g++) {
        if (!keep[g] && (best == 0xffffffffu || gscore[g] > gscore[best])) { best = g; }
      }
      keep[best] = true;
    }
    for (var e = 0u; e < E; e++) {
      if (!keep[e / size]) {
        if (p.method == NOAUX_TC) { taken[e] = true; } else { choice[e] = 0.0; scores[e] = 0.0; }
      }
    }
  }

  var picked: array<u32, 64>;
  var total = 0.0;
  for (var j = 0u; j < p.k; j++) {
    var best = 0xffffffffu;
    for (var e = 0u; e < E; e++) {
      if (!taken[e] && (best == 0xffffffffu || choice[e] > choice[best])) { best = e; }
    }
    taken[best] = true;
    picked[j] = best;
    total += scores[best];
  }
  let normalize = p.k > 1u && p.norm == 1u;
  for (var j = 0u; j < p.k; j++) {
    let s = t * p.k + j;
    let e = picked[j];
    var wgt = scores[e];
    if (normalize) { wgt = wgt / (total + 1e-20); }
    if (p.method == NOAUX_TC || !normalize) { wgt = wgt * p.scale; }
    plan[s] = e;
    plan[S + s] = bitcast<u32>(wgt);
  }
}

var<workgroup> counts: array<u32, 256>;
var<workgroup> tileCounts: array<u32, 256>;

@compute @workgroup_size(256)
fn group(@builtin(local_invocation_index) e: u32) {
  let S = p.T * p.k;
  var n = 0u;
  if (e < p.E) {
    for (var s = 0u; s < S; s++) { if (plan[s] == e) { n++; } }
  }
  counts[e] = n;
  tileCounts[e] = (n + TILE - 1u) / TILE;
  workgroupBarrier();
  var row = 0u;
  var tile = 0u;
  for (var i = 0u; i < e; i++) {
    row += counts[i];
    tile += tileCounts[i];
  }
  if (e == 255u) { plan[4u * S] = tile + tileCounts[e]; }
  var r = row;
  for (var s = 0u; s < S && r < row + n; s++) {
    if (plan[s] != e) { continue; }
    plan[2u * S + r] = s / p.k;
    plan[3u * S + s] = r;
    if ((r - row) % TILE == 0u) {
      let tb = 4u * S + 1u + 3u * (tile + (r - row) / TILE);
      plan[tb] = r;
      plan[tb + 1u] = min(TILE, row + n - r);
      plan[tb + 2u] = e;
    }
    r++;
  }
}
