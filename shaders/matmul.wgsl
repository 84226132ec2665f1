// Matmul with in-shader dequantization (weights.wgsl and tile_matmul.wgsl are prepended):
//   out[z][t, n] = Σ_k x[z][t, k] · W[z][n, k]
// for one weight part; z batches independent matrices of a stacked weight
// (per-head W_UKᵀ / W_UV of MLA) with their own x and out column offsets.
//
// Bindings (group 0):
//   0 p:   uniform Params
//   1 x:   storage read  f32 activation, row t of batch z at xOff + z·xBatch + t·xStride
//   2 w:   storage read  u32 weight part (layout in weights.wgsl)
//   3 out: storage rw    f32 activation, out[z][t, n] at oOff + z·oBatch + t·oStride + n
// Workgroup: 64 invocations = 64/TPR output rows (TPR = threads per row,
// override, a power of two chosen from K so short rows do not idle threads)
// and a tile of up to TB = 16 tokens (tile_matmul.wgsl). Weight rows are
// decoded once per tile, so prefill reads W ⌈T/16⌉ times.
// Dispatch: (groupsX, groupsY, batches), linear id = wid.x + wid.y·groupsX
// over ⌈N·TPR/64⌉ · ⌈T/16⌉ workgroups.

struct Params {
  N: u32, K: u32, T: u32, qBase: u32,
  xOff: u32, xStride: u32, xBatch: u32, wRow0: u32,
  oOff: u32, oStride: u32, oBatch: u32, wBatchRows: u32,
  groupsX: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// ctx = (x offset of batch z, first token t0, out offset of batch z, row n).
fn tileXRow(ctx: vec4<u32>, i: u32) -> u32 { return ctx.x + (ctx.y + i) * p.xStride; }
fn tileStore(ctx: vec4<u32>, i: u32, value: f32) { out[ctx.z + (ctx.y + i) * p.oStride + ctx.w] = value; }

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let id = wid.x + wid.y * p.groupsX;
  let z = wid.z;
  let tiles = (p.T + TB - 1u) / TB;
  let rowsPerGroup = WG / TPR;
  let rowGroups = (p.N + rowsPerGroup - 1u) / rowsPerGroup;
  let n = (id % rowGroups) * rowsPerGroup + lid / TPR;
  let t0 = (id / rowGroups) * TB;
  let valid = id < rowGroups * tiles && n < p.N;
  let count = select(0u, min(TB, p.T - min(t0, p.T)), valid);
  tileMatmul(lid, p.wRow0 + z * p.wBatchRows + n, count, vec4<u32>(p.xOff + z * p.xBatch, t0, p.oOff + z * p.oBatch, n));
}
