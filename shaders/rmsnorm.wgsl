// RMSNorm: out[r, i] = x[r, i] / sqrt(mean_i(x[r, :]²) + eps) · w[i]
// (DeepseekV2RMSNorm; the sum of squares in f32). `main` writes another
// buffer; `in_place` (out in x's buffer, e.g. q_a_layernorm on a view) binds
// x only and writes at oOff: WebGPU forbids two writable bindings of one buffer.
//
// Bindings (group 0):
//   0 p:   uniform Params
//   1 x:   storage rw    f32, row r at xOff + r·xStride
//   2 w:   storage read  f32 [cols]
//   3 out: storage rw    f32, row r at oOff + r·oStride (`main` only)
// Workgroup: 64 invocations = one row; strided partial sums, tree reduction,
// then each invocation scales its own columns. Dispatch: (rows, 1, 1).

struct Params {
  cols: u32, xOff: u32, xStride: u32, oOff: u32,
  oStride: u32, eps: f32, pad0: u32, pad1: u32,
}

const WG = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 64>;

fn inverseRms(xb: u32, lid: u32) -> f32 {
  var ss = 0.0;
  for (var i = lid; i < p.cols; i += WG) {
    let v = x[xb + i];
    ss += v * v;
  }
  red[lid] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  return inverseSqrt(red[0] / f32(p.cols) + p.eps);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let xb = p.xOff + wid.x * p.xStride;
  let inv = inverseRms(xb, lid);
  for (var i = lid; i < p.cols; i += WG) {
    out[p.oOff + wid.x * p.oStride + i] = x[xb + i] * inv * w[i];
  }
}

@compute @workgroup_size(64)
fn in_place(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let xb = p.xOff + wid.x * p.xStride;
  let inv = inverseRms(xb, lid);
  workgroupBarrier();
  for (var i = lid; i < p.cols; i += WG) {
    x[p.oOff + wid.x * p.oStride + i] = x[xb + i] * inv * w[i];
  }
}
