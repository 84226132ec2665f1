// The route plan as the WebGPU kernels read it (shaders/route.wgsl,
// shaders/moe.wgsl): u32 words
//   experts[S] | weights[S] (f32 bits) | rowToken[S] | tokenRows[S] | tiles[3·(S + E)]
// for S = T·k (token, selected expert) slots in selection order. Rows r index
// the experts' intermediate activations; a tile is (first row, rows ≤ 16,
// expert). Decode uses the unsorted plan route.wgsl writes (row = slot, one
// tile per slot); prefill regroups the rows by expert on the host so that an
// expert's weights are read once per 16 of its tokens.

export const TILE_ROWS = 16;

export function planWords(T: number, k: number, E: number): number {
  const S = T * k;
  return 4 * S + 3 * (S + E);
}

/** Rows grouped by expert (stable in slot order), tiled by TILE_ROWS. */
export function groupedPlan(experts: Int32Array, weights: Float32Array, T: number, k: number, E: number): { words: Uint32Array; tiles: number } {
  const S = T * k;
  const words = new Uint32Array(planWords(T, k, E));
  words.set(new Uint32Array(experts.buffer, experts.byteOffset, S), 0);
  words.set(new Uint32Array(weights.buffer, weights.byteOffset, S), S);
  const bySlot = Array.from({ length: S }, (_, s) => s).sort((a, b) => experts[a] - experts[b] || a - b);
  let tiles = 0;
  for (let r = 0; r < S; r++) {
    const s = bySlot[r];
    words[2 * S + r] = Math.floor(s / k);
    words[3 * S + s] = r;
    const tileStart = 4 * S + 3 * (tiles - 1);
    if (tiles > 0 && words[tileStart + 2] === experts[s] && words[tileStart + 1] < TILE_ROWS) {
      words[tileStart + 1]++;
    } else {
      words.set([r, 1, experts[s]], 4 * S + 3 * tiles);
      tiles++;
    }
  }
  return { words, tiles };
}
