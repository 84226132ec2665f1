// Absorbed MLA attention over the paged latent cache (design.md "Absorbed
// decode"), flash-decoding style: the context is cut into splits of
// `splitLen` positions; `partial` computes, per (query row t, group of HG
// heads, split), the split's softmax max m, sum l and unnormalized
// o_lat = Σ_j e^(s_j − m)·c_j; `merge` rescales and sums the splits into
// o_lat. Row t sits at position rows[2t] of its own sequence and attends
// causally to that sequence's positions [0, rows[2t]] — the same kernel
// serves a batch of decode rows (many splits), prefill chunks (masked) and
// any mix of them (a ragged batch; splits past a row's context are empty).
//   s_j = (q_lat · c_j + q_pe · kpe_j) · scale
// where a cache row is [c (KVR) | kpe (ROPE)] and q_lat = W_UKᵀ·q_nope was
// computed by matmul.wgsl. Position j of row t's sequence is cache row
// tables[rows[2t + 1] + j / BS] · BS + j % BS (vLLM's block tables).
//
// partial — bindings (group 0):
//   0 p:       uniform Params
//   1 qlat:    storage read  f32 [T, heads·KVR]
//   2 q:       storage read  f32, q_pe of (t, h) at qpeOff + t·qStride + h·qHead
//   3 cache:   storage read  f32 [blocks · BS, KVR + ROPE] (one layer)
//   4 partial: storage rw    f32 [T, heads, splits, KVR + 2] (o_lat, m, l)
//   6 rows:    storage read  u32 [T, 2] (position, first table entry)
//   7 tables:  storage read  u32 block ids, each sequence's table in position order
// Workgroup: 64 invocations. Scores: invocation i owns position cj + i of a
// 64-position chunk; the chunk's cache rows are staged through workgroup
// memory 16 columns at a time (coalesced loads) and every staged row is used
// for all HG heads; the chunk's 64 cache rows are looked up in the block
// table once. Accumulation: invocation i owns columns i, i + 64, ... of
// o_lat for the HG heads, in registers (KVR ≤ 512: 8 columns × 4 heads), so
// the workgroup needs < 16 KiB of workgroup memory (the core default). Dispatch: T · ⌈heads/HG⌉ · splits workgroups (linear
// id = wid.x + wid.y·groupsX).
//
// merge — bindings: 0 p, 4 partial (read), 5 olat: storage rw f32 [T, heads·KVR].
// One invocation per (t, h, column). Dispatch: ⌈T·heads·KVR / 64⌉.

override KVR: u32 = 512u;
override ROPE: u32 = 64u;

struct Params {
  T: u32, heads: u32, BS: u32, splits: u32,
  splitLen: u32, qpeOff: u32, qStride: u32, qHead: u32,
  scale: f32, groupsX: u32, pad0: u32, pad1: u32,
}

const HG = 4u;
const CH = 64u;
const TC = 16u;
const MAXQ = 8u; // columns per invocation: KVR ≤ 64·MAXQ
const NEG = -1.0e30;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qlat: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> cache: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;
@group(0) @binding(5) var<storage, read_write> olat: array<f32>;
@group(0) @binding(6) var<storage, read> rows: array<u32>;
@group(0) @binding(7) var<storage, read> tables: array<u32>;

var<workgroup> qs: array<f32, HG * (KVR + ROPE)>;
var<workgroup> tile: array<f32, 1088>; // CH · (TC + 1)
var<workgroup> sc: array<f32, 256>; //   HG · CH
var<workgroup> slots: array<u32, 64>; // CH cache rows of the chunk

@compute @workgroup_size(64)
fn partial_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let W = KVR + ROPE;
  let id = wid.x + wid.y * p.groupsX;
  let groupsH = (p.heads + HG - 1u) / HG;
  let s = id % p.splits;
  let hg = (id / p.splits) % groupsH;
  let t = min(id / (p.splits * groupsH), p.T - 1u);
  let live = id < p.T * groupsH * p.splits;
  let h0 = hg * HG;
  let lo = s * p.splitLen;
  let hi = select(lo, min(lo + p.splitLen, rows[2u * t] + 1u), live);
  let table = rows[2u * t + 1u];

  for (var i = lid; i < HG * W; i += 64u) {
    let h = h0 + i / W;
    let d = i % W;
    var v = 0.0;
    if (h < p.heads) {
      if (d < KVR) { v = qlat[(t * p.heads + h) * KVR + d]; }
      else { v = q[p.qpeOff + t * p.qStride + h * p.qHead + d - KVR]; }
    }
    qs[i] = v;
  }
  var os: array<f32, 32>; // [column q][head h] at q·HG + h, column lid + 64q
  var m = array<f32, 4>(NEG, NEG, NEG, NEG);
  var l = array<f32, 4>(0.0, 0.0, 0.0, 0.0);

  for (var cj = lo; cj < hi; cj += CH) {
    // The previous chunk ended on a barrier: its readers of slots are done.
    let j = cj + lid;
    var slot = 0u;
    if (j < hi) { slot = tables[table + j / p.BS] * p.BS + j % p.BS; }
    slots[lid] = slot;
    var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
    for (var dt = 0u; dt < W; dt += TC) {
      workgroupBarrier();
      for (var e = lid; e < CH * TC; e += 64u) {
        let r = e / TC;
        let c = e % TC;
        var v = 0.0;
        if (cj + r < hi && dt + c < W) { v = cache[slots[r] * W + dt + c]; }
        tile[r * (TC + 1u) + c] = v;
      }
      workgroupBarrier();
      let cols = min(TC, W - dt);
      for (var c = 0u; c < cols; c++) {
        let v = tile[lid * (TC + 1u) + c];
        for (var h = 0u; h < HG; h++) { acc[h] += v * qs[h * W + dt + c]; }
      }
    }
    for (var h = 0u; h < HG; h++) {
      sc[h * CH + lid] = select(NEG, acc[h] * p.scale, cj + lid < hi);
    }
    workgroupBarrier();
    var f = array<f32, 4>(1.0, 1.0, 1.0, 1.0);
    for (var h = 0u; h < HG; h++) {
      var cmax = NEG;
      for (var i = 0u; i < CH; i++) { cmax = max(cmax, sc[h * CH + i]); }
      let mNew = max(m[h], cmax);
      f[h] = exp(m[h] - mNew);
      m[h] = mNew;
    }
    workgroupBarrier();
    for (var h = 0u; h < HG; h++) {
      let i = h * CH + lid;
      sc[i] = select(0.0, exp(sc[i] - m[h]), cj + lid < hi);
    }
    workgroupBarrier();
    for (var h = 0u; h < HG; h++) {
      var sum = 0.0;
      for (var i = 0u; i < CH; i++) { sum += sc[h * CH + i]; }
      l[h] = l[h] * f[h] + sum;
    }
    let n = min(CH, hi - cj);
    for (var qd = 0u; qd < MAXQ; qd++) {
      let d = lid + 64u * qd;
      if (d >= KVR) { break; }
      var o = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
      for (var i = 0u; i < n; i++) {
        let c = cache[slots[i] * W + d];
        for (var h = 0u; h < HG; h++) { o[h] += sc[h * CH + i] * c; }
      }
      for (var h = 0u; h < HG; h++) { os[qd * HG + h] = os[qd * HG + h] * f[h] + o[h]; }
    }
    workgroupBarrier();
  }

  if (!live) { return; }
  for (var h = 0u; h < HG; h++) {
    if (h0 + h >= p.heads) { break; }
    let base = ((t * p.heads + h0 + h) * p.splits + s) * (KVR + 2u);
    for (var qd = 0u; qd < MAXQ; qd++) {
      let d = lid + 64u * qd;
      if (d < KVR) { partial[base + d] = os[qd * HG + h]; }
    }
    if (lid == 0u) {
      partial[base + KVR] = m[h];
      partial[base + KVR + 1u] = l[h];
    }
  }
}

@compute @workgroup_size(64)
fn merge_main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.groupsX * 64u;
  if (i >= p.T * p.heads * KVR) { return; }
  let d = i % KVR;
  let th = i / KVR;
  let base = th * p.splits * (KVR + 2u);
  var mMax = NEG;
  for (var s = 0u; s < p.splits; s++) { mMax = max(mMax, partial[base + s * (KVR + 2u) + KVR]); }
  var sum = 0.0;
  var o = 0.0;
  for (var s = 0u; s < p.splits; s++) {
    let at = base + s * (KVR + 2u);
    let f = exp(partial[at + KVR] - mMax);
    sum += partial[at + KVR + 1u] * f;
    o += partial[at + d] * f;
  }
  olat[i] = o / sum;
}
