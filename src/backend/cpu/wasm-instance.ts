import type { KernelExports } from './kernel-exports.ts';
import { WasmHeap } from './heap.ts';

/** One instance of build/edgeseek.wasm with its own memory and heap. */
export interface WasmInstance {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  readonly heap: WasmHeap;
  /** Views over the memory; re-fetch after any allocation (growth detaches them). */
  f32(): Float32Array;
  u8(): Uint8Array;
  i32(): Int32Array;
}

const imports = {
  env: {
    abort(_message: number, _file: number, line: number, column: number): never {
      throw new Error(`edgeseek.wasm aborted at ${line}:${column}`);
    },
  },
};

export async function instantiateKernels(module: WebAssembly.Module): Promise<WasmInstance> {
  return wrap(await WebAssembly.instantiate(module, imports));
}

/** Synchronous instantiation of an already compiled module (extra memories opened mid-load). */
export function instantiateKernelsSync(module: WebAssembly.Module): WasmInstance {
  return wrap(new WebAssembly.Instance(module, imports));
}

/**
 * An instance of the threads build (build/edgeseek-threads.wasm) over a new
 * shared memory, which worker threads instantiate too (threads/pool.ts).
 */
export function instantiateSharedKernels(module: WebAssembly.Module): WasmInstance {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
  return wrap(new WebAssembly.Instance(module, { env: { ...imports.env, memory } }), memory);
}

function wrap(instance: WebAssembly.Instance, imported?: WebAssembly.Memory): WasmInstance {
  const exports = instance.exports as unknown as KernelExports;
  const memory = imported ?? exports.memory;
  const heap = new WasmHeap(memory, exports.heapBase());
  return {
    exports,
    memory,
    heap,
    f32: () => new Float32Array(memory.buffer),
    u8: () => new Uint8Array(memory.buffer),
    i32: () => new Int32Array(memory.buffer),
  };
}
