// Row-wise f32 kernels: RMSNorm, RoPE, residual add, SwiGLU, copies.

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

export function rope(x: usize, xStride: i32, rows: i32, cosSin: usize, heads: i32, headStride: i32, dim: i32): void {
  const half = dim >> 1;
  for (let r = 0; r < rows; r++) {
    const table = cosSin + ((<usize>r * <usize>half) << 3);
    for (let h = 0; h < heads; h++) {
      const base = x + ((<usize>r * <usize>xStride + <usize>h * <usize>headStride) << 2);
      for (let j = 0; j < half; j++) {
        const c = load<f32>(table + (<usize>j << 3));
        const s = load<f32>(table + (<usize>j << 3), 4);
        const p = base + (<usize>j << 3);
        const a = load<f32>(p);
        const b = load<f32>(p, 4);
        store<f32>(p, a * c - b * s);
        store<f32>(p, b * c + a * s, 4);
      }
    }
  }
}

export function add(x: usize, xStride: i32, y: usize, yStride: i32, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>xStride) << 2);
    const yr = y + ((<usize>r * <usize>yStride) << 2);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      v128.store(xr + o, f32x4.add(v128.load(xr + o), v128.load(yr + o)));
    }
    for (let i = c4; i < cols; i++) {
      const o = <usize>i << 2;
      store<f32>(xr + o, load<f32>(xr + o) + load<f32>(yr + o));
    }
  }
}

export function swiglu(g: usize, gStride: i32, u: usize, uStride: i32, out: usize, outStride: i32, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const gr = g + ((<usize>r * <usize>gStride) << 2);
    const ur = u + ((<usize>r * <usize>uStride) << 2);
    const orow = out + ((<usize>r * <usize>outStride) << 2);
    for (let i = 0; i < cols; i++) {
      const o = <usize>i << 2;
      const v = load<f32>(gr + o);
      store<f32>(orow + o, (v / (1 + Mathf.exp(-v))) * load<f32>(ur + o));
    }
  }
}

export function copy_rows(src: usize, srcStride: i32, dst: usize, dstStride: i32, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + ((<usize>r * <usize>dstStride) << 2), src + ((<usize>r * <usize>srcStride) << 2), <usize>cols << 2);
  }
}
