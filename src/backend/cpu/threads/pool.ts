// Optional multi-threaded CPU backend: kernel workers (node:worker_threads in
// Node and Deno, Web Workers in a cross-origin isolated page) instantiate the
// threads build of the Wasm module (build/edgeseek-threads.wasm, shared
// memory) over the same memories as the main thread, and a batch of kernel
// calls is spread across main + workers. The main thread always takes a share
// and then waits on shared control words — no message round-trips per call.
// The kernels are unchanged: a matmul is split into row ranges, which write
// disjoint outputs.
import { CTRL, CTRL_FAILED, MAX_ARGS, MAX_CALLS, SPIN_MS, type KernelWorker } from './kernel-loop.ts';
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

  /** `threads` counts the main thread: 2 means one worker. */
  constructor(readonly threads: number, kernelNames: readonly string[]) {
    const workers = threads - 1;
    // + pending counter and call count at the end.
    this.ctrl = new Int32Array(new SharedArrayBuffer((workers * CTRL + 2) * 4));
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
    for (const worker of this.workers) worker.addShard(shard, module, memory);
  }

  /**
   * Runs the calls spread over all threads: call c goes to thread c mod threads
   * (thread 0 is this one, which runs `local` for its own calls). Returns when all are done.
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
    const pending = ctrl.length - 2;
    ctrl[ctrl.length - 1] = calls.length;
    Atomics.store(ctrl, pending, workers);
    for (let w = 0; w < workers; w++) {
      const base = w * CTRL;
      ctrl[base + 1] = shard;
      ctrl[base + 2] = w + 1;
      ctrl[base + 3] = workers + 1;
      Atomics.store(ctrl, base, 1);
      Atomics.notify(ctrl, base);
    }
    // A failing call of this thread's share is thrown only once the workers are done with theirs.
    let failure: { error: unknown } | undefined;
    try {
      for (let c = 0; c < calls.length; c += workers + 1) local(calls[c]);
    } catch (error) {
      failure = { error };
    }
    // The workers' shares usually end about when this thread's does: poll briefly before
    // sleeping (a page's main thread may not sleep in Atomics.wait, so it only polls).
    const spinUntil = performance.now() + SPIN_MS;
    for (let i = 0, left = Atomics.load(ctrl, pending); left > 0; i++, left = Atomics.load(ctrl, pending)) {
      if (MAIN_THREAD_MAY_WAIT && (i & 255) === 255 && performance.now() > spinUntil) Atomics.wait(ctrl, pending, left);
    }
    for (let w = 0; w < workers; w++) {
      const failed = ctrl[w * CTRL + CTRL_FAILED];
      if (failed === 0) continue;
      ctrl[w * CTRL + CTRL_FAILED] = 0;
      const call = calls[failed - 1];
      failure ??= { error: new Error(`CPU backend: ${call.kernel}(${call.args.join(', ')}) failed in kernel worker ${w + 1} (its error is on stderr)`) };
    }
    if (failure) throw failure.error;
  }

  dispose(): void {
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctrl, w * CTRL, 2);
      Atomics.notify(this.ctrl, w * CTRL);
    }
    for (const worker of this.workers) worker.terminate();
    this.workers.length = 0;
  }
}
