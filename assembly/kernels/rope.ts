// DeepSeek's interleaved RoPE, in place. HF views the rotary dims as (d/2, 2),
// transposes (x[0::2] ‖ x[1::2]) and applies rotate_half with angle j on
// elements j and j + d/2; that is the rotation of the adjacent pair
// (x[2j], x[2j+1]) by angle j, up to one permutation applied to q and k alike,
// which a dot product cannot see (src/model/rope.ts). Tables: cosSin
// [(r·dim/2 + j)·2 + {0: cos, 1: sin}].

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
