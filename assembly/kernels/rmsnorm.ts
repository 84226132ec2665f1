// RMSNorm (DeepseekV2RMSNorm): out[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) · w.
// The sum of squares is taken in f32 over four lanes, then finished in f64;
// out may equal x (each row is read completely before it is written).

export function rmsnorm(x: usize, xStride: i32, w: usize, out: usize, outStride: i32, rows: i32, cols: i32, eps: f32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>xStride) << 2);
    const orow = out + ((<usize>r * <usize>outStride) << 2);
    let acc = f32x4.splat(0);
    for (let i = 0; i < c4; i += 4) {
      const v = v128.load(xr + (<usize>i << 2));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    let ss: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
    for (let i = c4; i < cols; i++) { const v = <f64>load<f32>(xr + (<usize>i << 2)); ss += v * v; }
    const inv = <f32>(1.0 / Math.sqrt(ss / <f64>cols + <f64>eps));
    const invv = f32x4.splat(inv);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      v128.store(orow + o, f32x4.mul(f32x4.mul(v128.load(xr + o), invv), v128.load(w + o)));
    }
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(orow + o, load<f32>(xr + o) * inv * load<f32>(w + o));
    }
  }
}
