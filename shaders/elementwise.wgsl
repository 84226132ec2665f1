// Row-wise elementwise ops over strided f32 activations (views):
//   add:    a[r, i] += b[r, i]
//   swiglu: o[r, i] = silu(a[r, i]) · b[r, i]
//   swiglu_in_place: the same with o in a's buffer (binds a and b only)
//   gather:  o[r, i] = a[idx[r], i]                (gatherRows)
//   scatter: o[idx[r], i] = a[r, i]                (cacheWrite: rows to their cache slots)
// WebGPU forbids two writable bindings of one buffer, hence the in-place entry.
//
// Bindings (group 0): 0 p: uniform Params; 1 a, 2 b, 3 o: storage rw f32,
// row r at aOff + r·aStride (likewise b, o); 4 idx: storage read u32 [rows].
// `add` binds a and b only, gather and scatter a, o and idx.
// Workgroup: 64 invocations, one per element. Dispatch (groupsX, groupsY):
// linear invocation id = gid.x + gid.y · groupsX · 64.

struct Params {
  rows: u32, cols: u32, groupsX: u32, pad0: u32,
  aOff: u32, aStride: u32, bOff: u32, bStride: u32,
  oOff: u32, oStride: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<storage, read> idx: array<u32>;

fn element(gid: vec3<u32>) -> vec2<u32> {
  let i = gid.x + gid.y * p.groupsX * 64u;
  if (i >= p.rows * p.cols) { return vec2<u32>(0xffffffffu, 0u); }
  return vec2<u32>(i / p.cols, i % p.cols);
}

@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = element(gid);
  if (e.x == 0xffffffffu) { return; }
  a[p.aOff + e.x * p.aStride + e.y] += b[p.bOff + e.x * p.bStride + e.y];
}

@compute @workgroup_size(64)
fn swiglu(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = element(gid);
  if (e.x == 0xffffffffu) { return; }
  let g = a[p.aOff + e.x * p.aStride + e.y];
  let u = b[p.bOff + e.x * p.bStride + e.y];
  o[p.oOff + e.x * p.oStride + e.y] = g / (1.0 + exp(-g)) * u;
}

@compute @workgroup_size(64)
fn swiglu_in_place(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = element(gid);
  if (e.x == 0xffffffffu) { return; }
  let g = a[p.aOff + e.x * p.aStride + e.y];
  let u = b[p.bOff + e.x * p.bStride + e.y];
  a[p.oOff + e.x * p.oStride + e.y] = g / (1.0 + exp(-g)) * u;
}

@compute @workgroup_size(64)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = element(gid);
  if (e.x == 0xffffffffu) { return; }
  o[p.oOff + e.x * p.oStride + e.y] = a[p.aOff + idx[e.x] * p.aStride + e.y];
}

@compute @workgroup_size(64)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = element(gid);
  if (e.x == 0xffffffffu) { return; }
  o[p.oOff + idx[e.x] * p.oStride + e.y] = a[p.aOff + e.x * p.aStride + e.y];
}
