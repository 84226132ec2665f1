// A kernel call that fails on a worker thread (a Wasm trap, here a read past
// the end of memory) must surface as an error from the call that started the
// batch — not leave the main thread waiting forever for a worker that died —
// and the pool must run the next batch normally. Same for a failure in the
// main thread's own share, and for a kernel name the module does not export.
// A worker woken when it has nothing to run must not run a batch again, a
// batch must not wait for a worker that never wakes for it, and a worker whose
// view of the shared memory stays short of the main thread's fails loudly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_WORDS, NEXT, PENDING, RUN } from '../../src/backend/cpu/threads/kernel-loop.ts';
import { ThreadPool, type KernelCall } from '../../src/backend/cpu/threads/pool.ts';
import { instantiateSharedKernels, type WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { loadWasmThreadsModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';

/** A main thread + one worker over `memory` as shard 0. */
async function startPool(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<ThreadPool> {
  const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  const pool = new ThreadPool(2, names);
  await pool.started();
  pool.addShard(0, module, memory);
  return pool;
}

describe('thread pool faults', () => {
  let module: WebAssembly.Module;
  let pool: ThreadPool;
  let inst: WasmInstance;
  let good: KernelCall;
  let src = 0, dst = 0;
  beforeAll(async () => {
    module = await loadWasmThreadsModuleFromDisk();
    inst = instantiateSharedKernels(module);
    pool = await startPool(module, inst.memory);
    src = inst.heap.alloc(64 * 4);
    dst = inst.heap.alloc(64 * 4);
    inst.f32().set(Float32Array.from({ length: 64 }, (_, i) => i + 0.5), src / 4);
    // copy_rows(src, srcStride, dst, dstStride, rows, cols) — a call that succeeds.
    good = { kernel: 'copy_rows', args: [src, 8, dst, 8, 8, 8] };
  });
  afterAll(() => pool?.dispose());

  const local = (call: KernelCall) => (inst.exports as unknown as Record<string, (...a: number[]) => void>)[call.kernel](...call.args);
  const outside = () => inst.memory.buffer.byteLength + (1 << 20);

  const ctrlOf = (p: ThreadPool) => (p as unknown as { ctrl: Int32Array }).ctrl;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * Runs a two-call batch with the worker asleep (idle past SPIN_MS), so this
   * thread nearly always takes call 0 before the worker wakes; it then waits
   * (up to a second) until the other call is taken, so each thread runs one.
   * Returns the calls this thread ran and what run() threw.
   */
  async function runTwo(calls: KernelCall[]): Promise<{ mine: KernelCall[]; error?: Error }> {
    await sleep(50);
    const mine: KernelCall[] = [];
    const ctrl = ctrlOf(pool);
    const taking = (call: KernelCall) => {
      mine.push(call);
      const until = performance.now() + 1000;
      while (Atomics.load(ctrl, NEXT) < 2 && performance.now() < until);
      local(call);
    };
    try {
      pool.run(0, calls, taking);
      return { mine };
    } catch (error) {
      return { mine, error: error as Error };
    }
  }

  // [good, bad] puts the trap on the worker and [bad, good] on this thread (nearly always; the
  // expected message follows whichever thread did run it).
  for (const badFirst of [false, true]) {
    it(`a trap in ${badFirst ? 'this thread\'s' : 'the worker\'s'} call throws from run(), naming the call, once every thread is done; the pool keeps working`, async () => {
      const bad = { kernel: 'copy_rows', args: [outside(), 8, dst, 8, 8, 8] };
      const { mine, error } = await runTwo(badFirst ? [bad, good] : [good, bad]);
      expect(error?.message).toMatch(mine.includes(bad) ? /copy_rows\(.*\) failed: .*out of bounds/ : /copy_rows\(.*\) failed in kernel worker 1/);
      expect(Atomics.load(ctrlOf(pool), PENDING), 'workers still running').toBe(0);
      inst.f32().fill(0, dst / 4, dst / 4 + 64);
      pool.run(0, [good, good], local);
      expect(Array.from(inst.f32().subarray(dst / 4, dst / 4 + 64))).toEqual(Array.from({ length: 64 }, (_, i) => i + 0.5));
    });
  }

  it('a batch does not wait for a worker that never takes it: this thread runs every call', async () => {
    // A worker the OS does not schedule (other jobs on the machine) is, to the
    // pool, one that has stopped: here a pool of its own whose worker is gone.
    const lonely = await startPool(module, inst.memory);
    (lonely as unknown as { workers: { terminate(): void }[] }).workers[0].terminate();
    await sleep(200);
    const rows = Array.from({ length: 8 }, (_, r): KernelCall => ({ kernel: 'copy_rows', args: [src + r * 32, 8, dst + r * 32, 8, 1, 8] }));
    inst.f32().fill(0, dst / 4, dst / 4 + 64);
    lonely.run(0, rows, local);
    expect(Array.from(inst.f32().subarray(dst / 4, dst / 4 + 64))).toEqual(Array.from({ length: 64 }, (_, i) => i + 0.5));
    lonely.dispose();
  });

  it('a worker whose view of the memory is shorter than the main thread\'s, even after refreshing it, fails the batch naming the shard', async () => {
    // The worker compares its view of the shard's memory with the size the main thread
    // sends and refreshes a short one (grow(0)); here the main thread is told of a larger
    // memory than the one the worker holds, so the refresh cannot help.
    const own = await startPool(module, inst.memory);
    const larger = new WebAssembly.Memory({ initial: inst.memory.buffer.byteLength / 65536 + 1, maximum: 65536, shared: true });
    (own as unknown as { memories: WebAssembly.Memory[] }).memories[0] = larger;
    const state = ctrlOf(own);
    const waitForWorker = (call: KernelCall) => {
      const until = performance.now() + 2000;
      while (Atomics.load(state, HEADER_WORDS) === RUN && performance.now() < until);
      local(call);
    };
    expect(() => own.run(0, [good, good], waitForWorker)).toThrow(/shard 0 failed in kernel worker 1/);
    own.dispose();
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
    // add(x, xStride, y, yStride, rows, cols): x += y, run by one of the two threads.
    pool.run(0, [good, { kernel: 'add', args: [acc, 8, one, 8, 1, 8] }], local);
    const ctrl = ctrlOf(pool);
    await sleep(100); // past SPIN_MS: the worker sleeps in Atomics.wait on its state word
    Atomics.notify(ctrl, HEADER_WORDS);
    await sleep(100);
    expect(Array.from(inst.f32().subarray(acc / 4, acc / 4 + 8)), 'the worker ran its share once').toEqual(new Array(8).fill(1));
    expect(Atomics.load(ctrl, PENDING), 'pending count').toBe(0);
    pool.run(0, [good, good], local);
    inst.heap.release(acc);
    inst.heap.release(one);
  });

  it('an unknown kernel name is an error before any thread starts', () => {
    expect(() => pool.run(0, [good, { kernel: 'no_such_kernel', args: [] }], local)).toThrow(/no kernel no_such_kernel/);
    pool.run(0, [good, good], local);
  });
});
