// Row-wise f32 kernels: residual add, SwiGLU, strided copies (RMSNorm and
// RoPE have their own files).
import { expF32x4 } from './exp';

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
  const c4 = cols & ~3;
  const one = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const gr = g + ((<usize>r * <usize>gStride) << 2);
    const ur = u + ((<usize>r * <usize>uStride) << 2);
    const orow = out + ((<usize>r * <usize>outStride) << 2);
    for (let i = 0; i < c4; i += 4) {
      const o = <usize>i << 2;
      const v = v128.load(gr + o);
      const silu = f32x4.div(v, f32x4.add(one, expF32x4(f32x4.neg(v))));
      v128.store(orow + o, f32x4.mul(silu, v128.load(ur + o)));
    }
    for (let i = c4; i < cols; i++) {
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
