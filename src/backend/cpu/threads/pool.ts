// Optional multi-threaded CPU backend: kernel workers (node:worker_threads in
// Node and Deno, Web Workers in a cross-origin isolated page) instantiate the
// threads build of the Wasm module (build/edgeseek-threads.wasm, shared
// memory) over the same memories as the main thread, and a batch of kernel
// calls is spread across main + workers. The main thread takes calls too and
// then waits on shared control words — no message round-trips per call.
// The kernels are unchanged: a matmul is split into row ranges, which write
// disjoint outputs. Threads take calls from a shared counter (kernel-loop.ts),
// so callers split work into more calls than threads where it is large.
import {
  COUNT, CTRL, CTRL_FAILED, HEADER_WORDS, IDLE, MAX_ARGS, MAX_CALLS, NEXT, PAGES, PENDING, RUN, SHARD, SPIN_MS, STOP,
  type KernelWorker,
} from './kernel-loop.ts';
import { MAIN_THREAD_MAY_WAIT, startKernelWorker } from './kernel-workers-node.ts';

/** One kernel invocation: an export of the module and its arguments (pointers and sizes). */
export interface KernelCall {
  readonly kernel: string;
  readonly args: readonly number[];
}

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private readonly calls: Float64Array;
  private readonly names: string[];
  private readonly workers: KernelWorker[] = [];
  private readonly memories: WebAssembly.Memory[] = [];

  /** `threads` counts the main thread: 2 means one worker. */
  constructor(readonly threads: number, kernelNames: readonly string[]) {
    const workers = threads - 1;
    this.ctrl = new Int32Array(new SharedArrayBuffer((HEADER_WORDS + workers * CTRL) * 4));
    this.calls = new Float64Array(new SharedArrayBuffer(MAX_CALLS * (MAX_ARGS + 2) * 8));
    this.names = [...kernelNames];
    for (let index = 0; index < workers; index++) {
      this.workers.push(startKernelWorker({ ctrl: this.ctrl.buffer as SharedArrayBuffer, calls: this.calls.buffer as SharedArrayBuffer, names: this.names, index }));
    }
  }

  /** Settles when every worker runs (call before the first batch). */
  async started(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.started));
  }

  /** Makes a shard's shared memory known to every worker (delivered before their next batch). */
  addShard(shard: number, module: WebAssembly.Module, memory: WebAssembly.Memory): void {
    this.memories[shard] = memory;
    for (const worker of this.workers) worker.addShard(shard, module, memory);
  }

  /**
   * Runs the calls spread over all threads, each thread taking the next call
   * not yet taken (this one runs `local` for those it takes). Returns when all
   * are done; throws the first failure, naming its call.
   */
  run(shard: number, calls: readonly KernelCall[], local: (call: KernelCall) => void): void {
    if (calls.length > MAX_CALLS) throw new Error(`thread pool: ${calls.length} calls in one batch (at most ${MAX_CALLS})`);
    const workers = this.workers.length;
    calls.forEach((call, c) => {
      if (call.args.length > MAX_ARGS) throw new Error(`thread pool: ${call.kernel} has too many arguments`);
      const at = c * (MAX_ARGS + 2);
      const index = this.names.indexOf(call.kernel);
      if (index < 0) throw new Error(`thread pool: no kernel ${call.kernel} in the threads module`);
      this.calls[at] = index;
      this.calls[at + 1] = call.args.length;
      this.calls.set(call.args, at + 2);
    });
    const ctrl = this.ctrl;
    ctrl[COUNT] = calls.length;
    ctrl[SHARD] = shard;
    // The memory's size as this thread sees it (it grows it): a worker whose view is shorter refreshes it.
    ctrl[PAGES] = (this.memories[shard]?.buffer.byteLength ?? 0) / 65536;
    Atomics.store(ctrl, NEXT, 0);
    Atomics.store(ctrl, PENDING, workers);
    for (let w = 0; w < workers; w++) {
      const base = HEADER_WORDS + w * CTRL;
      Atomics.store(ctrl, base, RUN);
      Atomics.notify(ctrl, base);
    }
    // A failing call of this thread's is thrown only once the workers are done with the batch.
    let failure: { error: unknown } | undefined;
    let c = -1;
    try {
      while ((c = Atomics.add(ctrl, NEXT, 1)) < calls.length) local(calls[c]);
    } catch (error) {
      const call = calls[c];
      failure = { error: new Error(`CPU backend: ${call.kernel}(${call.args.join(', ')}) failed: ${(error as Error)?.message ?? error}`, { cause: error }) };
    }
    // Every call is taken: a worker that has not yet woken for this batch is
    // withdrawn (it finds nothing to do when it wakes); the others are waited for.
    for (let w = 0; w < workers; w++) {
      if (Atomics.compareExchange(ctrl, HEADER_WORDS + w * CTRL, RUN, IDLE) === RUN) Atomics.sub(ctrl, PENDING, 1);
    }
    // The workers usually finish about when this thread does: poll briefly before
    // sleeping (a page's main thread may not sleep in Atomics.wait, so it only polls).
    const spinUntil = performance.now() + SPIN_MS;
    for (let i = 0, left = Atomics.load(ctrl, PENDING); left > 0; i++, left = Atomics.load(ctrl, PENDING)) {
      if (MAIN_THREAD_MAY_WAIT && (i & 255) === 255 && performance.now() > spinUntil) Atomics.wait(ctrl, PENDING, left);
    }
    for (let w = 0; w < workers; w++) {
      const word = HEADER_WORDS + w * CTRL + CTRL_FAILED;
      const failed = ctrl[word];
      if (failed === 0) continue;
      ctrl[word] = 0;
      const call = calls[failed - 2];
      const what = call ? `${call.kernel}(${call.args.join(', ')})` : `shard ${shard}`;
      failure ??= { error: new Error(`CPU backend: ${what} failed in kernel worker ${w + 1} (its error is on stderr)`) };
    }
    if (failure) throw failure.error;
  }

  dispose(): void {
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctrl, HEADER_WORDS + w * CTRL, STOP);
      Atomics.notify(this.ctrl, HEADER_WORDS + w * CTRL);
    }
    for (const worker of this.workers) worker.terminate();
    this.workers.length = 0;
  }
}
