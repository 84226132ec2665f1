// The tiled matvec core shared by matmul.wgsl and moe.wgsl (prepended to both,
// after weights.wgsl). A workgroup of WG = 64 invocations holds 64/TPR weight
// rows and a tile of up to TB = 16 token rows; each invocation accumulates
// groups of 4 along K (g = lane, lane + TPR, ...) for every token of the tile,
// then each weight row's TPR invocations tree-reduce in `red`. A weight row
// is decoded once per tile. The including kernel declares `p` (with K and
// qBase), the storage buffer `x`, and two functions that say where its tile
// lives: tileXRow(ctx, i) (offset of token i's x row) and tileStore(ctx, i,
// value) (lane 0 writes the result); ctx is the kernel's own.

const WG = 64u;
const TB = 16u;
override TPR: u32 = 64u;

var<workgroup> red: array<f32, 1024>; // TB · WG

/** Σ_k x[tileXRow(ctx, i) + k] · W[row, k] for the tile's `count` tokens. Call from uniform control flow. */
fn tileMatmul(lid: u32, row: u32, count: u32, ctx: vec4<u32>) {
  let lane = lid % TPR;
  let groups = (p.K + 3u) / 4u;
  var acc: array<f32, 16>;
  for (var g = lane; g < groups; g += TPR) {
    if (count == 0u) { break; }
    let wv = weight4(row, g, p.K, p.qBase);
    let k = 4u * g;
    for (var i = 0u; i < count; i++) {
      let xr = tileXRow(ctx, i) + k;
      var xv = vec4<f32>(x[xr], 0.0, 0.0, 0.0);
      if (k + 1u < p.K) { xv.y = x[xr + 1u]; }
      if (k + 2u < p.K) { xv.z = x[xr + 2u]; }
      if (k + 3u < p.K) { xv.w = x[xr + 3u]; }
      acc[i] += dot(wv, xv);
    }
  }
  for (var i = 0u; i < count; i++) { red[i * WG + lid] = acc[i]; }
  workgroupBarrier();
  for (var s = TPR / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      for (var i = 0u; i < count; i++) { red[i * WG + lid] += red[i * WG + lid + s]; }
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    for (var i = 0u; i < count; i++) { tileStore(ctx, i, red[i * WG + lid]); }
  }
}
