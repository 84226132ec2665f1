// The route plan as the WebGPU kernels read it (shaders/route.wgsl,
// shaders/moe.wgsl): u32 words
//   experts[S] | weights[S] (f32 bits) | rowToken[S] | tokenRows[S] | tileCount | tiles[3·maxTiles]
// for S = T·k (token, selected expert) slots in selection order. Rows r index
// the experts' intermediate activations, grouped by expert (stable in slot
// order); a tile is (first row, rows ≤ TILE_ROWS, expert). route.wgsl writes
// it all on the GPU, so an expert's weights are read once per TILE_ROWS of
// its tokens and no step waits for a read-back before its logits.

export const TILE_ROWS = 16;

/** The most tiles S slots over E experts can need: Σ_e ⌈n_e / TILE_ROWS⌉ ≤ ⌊S / TILE_ROWS⌋ + min(E, S). */
export function maxTiles(T: number, k: number, E: number): number {
  const S = T * k;
  return Math.min(S, Math.floor(S / TILE_ROWS) + Math.min(E, S));
}

export function planWords(T: number, k: number, E: number): number {
  return 4 * T * k + 1 + 3 * maxTiles(T, k, E);
}
