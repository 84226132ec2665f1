// Single-thread memory read bandwidth from Wasm, measured over a buffer far
// larger than the caches: the roofline decode is compared against.
import { instantiateKernels } from './wasm-instance.ts';

export async function measureReadBandwidth(module: WebAssembly.Module, bytes = 512 * 1024 * 1024, repeats = 5): Promise<number> {
  const instance = await instantiateKernels(module);
  const ptr = instance.heap.alloc(bytes);
  // Touch every page so the first timed pass does not pay for page faults.
  const u8 = instance.u8();
  for (let i = 0; i < bytes; i += 4096) u8[ptr + i] = i & 0xff;
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    instance.exports.stream_read(ptr, bytes);
    best = Math.min(best, performance.now() - t0);
  }
  instance.heap.release(ptr);
  return bytes / (best / 1000);
}
