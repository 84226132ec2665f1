// A kernel call that fails on a worker thread (a Wasm trap, here a read past
// the end of memory) must surface as an error from the call that started the
// batch — not leave the main thread waiting forever for a worker that died —
// and the pool must run the next batch normally. Same for a failure in the
// main thread's own share, and for a kernel name the module does not export;
// and a worker woken when it has nothing to run must not run a batch again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadPool, type KernelCall } from '../../src/backend/cpu/threads/pool.ts';
import { instantiateSharedKernels, type WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { loadWasmThreadsModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';

describe('thread pool faults', () => {
  let pool: ThreadPool;
  let inst: WasmInstance;
  let good: KernelCall;
  let src = 0, dst = 0;
  beforeAll(async () => {
    const module = await loadWasmThreadsModuleFromDisk();
    inst = instantiateSharedKernels(module);
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    pool = new ThreadPool(2, names);
    await pool.started();
    pool.addShard(0, module, inst.memory);
    src = inst.heap.alloc(64 * 4);
    dst = inst.heap.alloc(64 * 4);
    inst.f32().set(Float32Array.from({ length: 64 }, (_, i) => i + 0.5), src / 4);
    // copy_rows(src, srcStride, dst, dstStride, rows, cols) — a call that succeeds.
    good = { kernel: 'copy_rows', args: [src, 8, dst, 8, 8, 8] };
  });
  afterAll(() => pool?.dispose());

  const local = (call: KernelCall) => (inst.exports as unknown as Record<string, (...a: number[]) => void>)[call.kernel](...call.args);
  const outside = () => inst.memory.buffer.byteLength + (1 << 20);

  it('a trap in the worker\'s share throws from run(), naming the kernel, and the pool keeps working', () => {
    // Call 1 goes to the worker (call c runs on thread c mod 2): it reads past the end of memory.
    const bad = { kernel: 'copy_rows', args: [outside(), 8, dst, 8, 8, 8] };
    expect(() => pool.run(0, [good, bad], local)).toThrow(/copy_rows\(.*\) failed in kernel worker 1/);
    inst.f32().fill(0, dst / 4, dst / 4 + 64);
    pool.run(0, [good, good], local);
    expect(Array.from(inst.f32().subarray(dst / 4, dst / 4 + 64))).toEqual(Array.from({ length: 64 }, (_, i) => i + 0.5));
  });

  it('a trap in the main thread\'s share throws after the worker has finished its share', () => {
    const bad = { kernel: 'copy_rows', args: [outside(), 8, dst, 8, 8, 8] };
    expect(() => pool.run(0, [bad, good], local)).toThrow(/out of bounds/);
    pool.run(0, [good, good], local);
  });

  it('a worker woken with no batch for it (a late notify) runs nothing and leaves the pending count alone', async () => {
    // run() stores a worker's state, then notifies it. When the worker was still
    // polling it takes the batch before that notify; if the main thread is
    // descheduled in between (three threads on two cores), the notify lands
    // after the worker has finished and gone to sleep. Such a wake-up must not
    // run the last batch again: that would add the share twice here, and in a
    // pool count its share done twice, so run() could return while another
    // worker still writes its rows (seen as wrong MoE outputs in CI).
    const acc = inst.heap.alloc(8 * 4);
    const one = inst.heap.alloc(8 * 4);
    inst.f32().fill(0, acc / 4, acc / 4 + 8);
    inst.f32().fill(1, one / 4, one / 4 + 8);
    // add(x, xStride, y, yStride, rows, cols): x += y. Call 1 is the worker's.
    pool.run(0, [good, { kernel: 'add', args: [acc, 8, one, 8, 1, 8] }], local);
    const ctrl = (pool as unknown as { ctrl: Int32Array }).ctrl;
    const asleep = () => new Promise((resolve) => setTimeout(resolve, 100));
    await asleep(); // past SPIN_MS: the worker sleeps in Atomics.wait on its state word
    Atomics.notify(ctrl, 0);
    await asleep();
    expect(Array.from(inst.f32().subarray(acc / 4, acc / 4 + 8)), 'the worker ran its share once').toEqual(new Array(8).fill(1));
    expect(Atomics.load(ctrl, ctrl.length - 2), 'pending count').toBe(0);
    pool.run(0, [good, good], local);
    inst.heap.release(acc);
    inst.heap.release(one);
  });

  it('an unknown kernel name is an error before any thread starts', () => {
    expect(() => pool.run(0, [good, { kernel: 'no_such_kernel', args: [] }], local)).toThrow(/no kernel no_such_kernel/);
    pool.run(0, [good, good], local);
  });
});
