// DeepSeek's interleaved RoPE in place (HF apply_rotary_pos_emb after the
// (d/2, 2) transpose, kept in the interleaved layout): for row r, head h and
// pair j < dim/2, with (c, s) = cosSin[r][j] (YaRN mscale already folded in):
//   x[2j]   ← x[2j]·c − x[2j+1]·s
//   x[2j+1] ← x[2j+1]·c + x[2j]·s
//
// Bindings (group 0):
//   0 p:  uniform Params
//   1 x:  storage rw    f32, head h of row r at xOff + r·xStride + h·headStride
//   2 cs: storage read  f32 [rows, dim/2, 2]
// Workgroup: 64 invocations, one per (row, head, pair). Dispatch: ⌈rows·heads·dim/2 / 64⌉
// workgroups as (groupsX, groupsY); invocation id = gid.x + gid.y·groupsX·64.

struct Params {
  rows: u32, heads: u32, half: u32, headStride: u32,
  xOff: u32, xStride: u32, groupsX: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> cs: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * p.groupsX * 64u;
  if (i >= p.rows * p.heads * p.half) { return; }
  let j = i % p.half;
  let h = (i / p.half) % p.heads;
  let r = i / (p.half * p.heads);
  let at = p.xOff + r * p.xStride + h * p.headStride + 2u * j;
  let c = cs[(r * p.half + j) * 2u];
  let s = cs[(r * p.half + j) * 2u + 1u];
  let a = x[at];
  let b = x[at + 1u];
  x[at] = a * c - b * s;
  x[at + 1u] = b * c + a * s;
}
