// A scheduling fence for V8's Wasm compiler. TurboFan keeps memory loads in
// program order (they are effects) but sinks pure arithmetic to its first use,
// so a loop body that loads the weights and activations of several blocks and
// combines their sums only at the end gets every load first and every loaded
// value spilled to the stack before the arithmetic starts (seen in the Q4_K /
// Q6_K int16 decode: ~40 spill moves per super-block half). fence(v) stores
// one lane of v to a global — an effect that needs v — so v is computed
// before the loads that follow it in the source. Costs a lane extract and a
// store; measured on the K-quant int16 kernels (BENCHMARKS.md): Q4_K decode
// 17.7 → 26.5 GFLOP/s, Q6_K 15.8 → 18.8.

/**
 * Written by fence, never read. Exported only so that Binaryen keeps the
 * stores (a global nobody can read is removed with its writes); each
 * instance, so each thread, has its own.
 */
export let scheduling_fence: i32 = 0;

/** v, after an effect that needs it (see above). */
@inline export function fence(v: v128): v128 {
  scheduling_fence = i32x4.extract_lane(v, 0);
  return v;
}
