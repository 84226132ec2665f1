// stream_read is the bandwidth probe `edgeseek bench` divides by: it must
// really read every byte (its checksum is the i32 lane sum of the buffer).
import { expect, it } from 'vitest';
import { instantiateKernels } from '../../src/backend/cpu/wasm-instance.ts';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { rng } from './reference.ts';

it('stream_read sums every 32-bit word of the buffer (4,160 bytes, a non-power-of-two multiple of 64)', async () => {
  const inst = await instantiateKernels(await loadWasmModuleFromDisk());
  const bytes = 4160;
  const ptr = inst.heap.alloc(bytes);
  const next = rng(7);
  const words = inst.i32().subarray(ptr / 4, (ptr + bytes) / 4);
  let expected = 0;
  for (let i = 0; i < words.length; i++) { words[i] = Math.floor(next() * 2 ** 20) - 2 ** 19; expected = (expected + words[i]) | 0; }
  expect(inst.exports.stream_read(ptr, bytes)).toBe(expected);
});
