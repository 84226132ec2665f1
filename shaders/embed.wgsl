// Embedding lookup with dequantization (weights.wgsl is prepended):
//   out[t, :] = table[ids[t], :]
// for the ids that fall in this weight part (rows [row0, row0 + rows)); a
// table split across parts is looked up with one dispatch per part.
//
// Bindings (group 0):
//   0 p:   uniform Params
//   1 ids: storage read  u32 [T]
//   2 w:   storage read  u32 weight part (layout in weights.wgsl)
//   3 out: storage rw    f32, row t at oOff + t·oStride
// Workgroup: 64 invocations, one per (token, group of 4 columns); dispatch
// (groupsX, groupsY), invocation id = gid.x + gid.y·groupsX·64.

struct Params {
  T: u32, H: u32, row0: u32, rows: u32,
  qBase: u32, oOff: u32, oStride: u32, groupsX: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let groups = (p.H + 3u) / 4u;
  let i = gid.x + gid.y * p.groupsX * 64u;
  if (i >= p.T * groups) { return; }
  let t = i / groups;
  let g = i % groups;
  let id = ids[t];
  if (id < p.row0 || id >= p.row0 + p.rows) { return; }
  let v = weight4(id - p.row0, g, p.H, p.qBase);
  let o = p.oOff + t * p.oStride + 4u * g;
  out[o] = v.x;
  if (4u * g + 1u < p.H) { out[o + 1u] = v.y; }
  if (4u * g + 2u < p.H) { out[o + 2u] = v.z; }
  if (4u * g + 3u < p.H) { out[o + 3u] = v.w; }
}
