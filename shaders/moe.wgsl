// DeepSeekMoE expert FFN over a route plan (weights.wgsl and tile_matmul.wgsl are prepended).
// The plan (src/backend/webgpu/moe-plan.ts) lists S = T·k rows, one per
// (token, selected expert), sorted by expert and grouped into tiles of ≤ 16
// rows of one expert by route.wgsl, so an expert's weights are read once per
// tile of its tokens (a grouped matmul) — over every row of a step.
//
// expert_matmul: y[r, n] = Σ_k xr[k] · W[e(r)][n, k], where xr is x's row
// rowToken[r] (gather = 1, gate/up) or row r (gather = 0, down over the rows).
//   0 p: uniform Params; 1 x: storage read f32; 2 w: storage read u32 weight
//   part holding experts [eFirst, eFirst + eCount); 3 plan: storage read u32;
//   4 y: storage rw f32 [S, N]
//   Workgroup: 64 invocations = 64/TPR output columns of one tile
//   (tile_matmul.wgsl); tiles of experts outside this part do nothing.
//   Dispatch: ⌈N·TPR/64⌉ · tiles workgroups (linear id = wid.x + wid.y·groupsX),
//   tiles the most the plan can have; those past its tile count (plan[4S]) do nothing.
// combine: out[t, h] += Σ_j weights[t·k + j] · y[tokenRows[t·k + j], h]
//   0 p; 3 plan; 4 y; 5 out: storage rw f32. One invocation per (t, h).

struct Params {
  N: u32, K: u32, qBase: u32, gather: u32,
  xOff: u32, xStride: u32, eFirst: u32, eCount: u32,
  tiles: u32, S: u32, k: u32, groupsX: u32,
  oOff: u32, oStride: u32, T: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> plan: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

// ctx = (first plan row r0 of the tile, output column n, -, -).
fn tileXRow(ctx: vec4<u32>, i: u32) -> u32 {
  let r = ctx.x + i;
  return p.xOff + select(r, plan[2u * p.S + r], p.gather == 1u) * p.xStride;
}
fn tileStore(ctx: vec4<u32>, i: u32, value: f32) { y[(ctx.x + i) * p.N + ctx.y] = value; }

@compute @workgroup_size(64)
fn expert_matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let id = wid.x + wid.y * p.groupsX;
  let rowsPerGroup = WG / TPR;
  let rowGroups = (p.N + rowsPerGroup - 1u) / rowsPerGroup;
  let n = (id % rowGroups) * rowsPerGroup + lid / TPR;
  let tiles = min(plan[4u * p.S], p.tiles);
  let tile = min(id / rowGroups, tiles - 1u);
  let tb = 4u * p.S + 1u + 3u * tile;
  let r0 = plan[tb];
  let e = plan[tb + 2u];
  let mine = id < rowGroups * tiles && n < p.N && e >= p.eFirst && e < p.eFirst + p.eCount;
  let count = select(0u, min(plan[tb + 1u], TB), mine);
  tileMatmul(lid, (e - p.eFirst) * p.N + n, count, vec4<u32>(r0, n, 0u, 0u));
}

@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.groupsX * 64u;
  if (i >= p.T * p.N) { return; }
  let t = i / p.N;
  let h = i % p.N;
  var acc = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let s = t * p.k + j;
    acc += bitcast<f32>(plan[p.S + s]) * y[plan[3u * p.S + s] * p.N + h];
  }
  out[p.oOff + t * p.oStride + h] += acc;
}
