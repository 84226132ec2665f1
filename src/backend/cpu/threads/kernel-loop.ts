// The part of a kernel worker's code that every runtime shares: the control
// words of the pool (pool.ts) and the loop body that runs this worker's share
// of a batch. Worker code is JavaScript text (each runtime starts its workers
// from a string, so no file path has to survive bundling or the src/dist split);
// kernel-workers-node.ts and src/browser/kernel-workers.ts wrap it.

/** Most kernel calls in one batch. */
export const MAX_CALLS = 256;
/** Most arguments of one call (pointers and sizes). */
export const MAX_ARGS = 16;
/** How long an idle thread polls for the next batch before it sleeps (ms). */
export const SPIN_MS = 5;
/**
 * Per-worker control words: state (0 idle, 1 run, 2 stop), shard, first call,
 * call stride, and the failed call + 1 (0: none) of the last batch.
 */
export const CTRL = 5;
/** Index of the failed-call word within a worker's control words. */
export const CTRL_FAILED = 4;

/**
 * Statements that run the calls of this worker's share, given `ctrlView`
 * (Int32Array over the control words), `callView` (Float64Array over the
 * calls), `names` (kernel names by index), `base` (this worker's first control
 * word) and `exports` (the kernels of the batch's shard); then mark the share done.
 */
export const RUN_SHARE_SOURCE = `
  const count = ctrlView[ctrlView.length - 1];
  let c = ctrlView[base + 2];
  try {
    for (; c < count; c += ctrlView[base + 3]) {
      const at = c * ${MAX_ARGS + 2};
      const fn = exports[names[callView[at]]];
      const n = callView[at + 1];
      const a = [];
      for (let i = 0; i < n; i++) a.push(callView[at + 2 + i]);
      fn(...a);
    }
  } catch (error) {
    // The share still ends (a thread left waiting would hang the pool); the
    // main thread throws for the failed call. The message goes to stderr.
    ctrlView[base + ${CTRL_FAILED}] = c + 1;
    console.error('edgeseek kernel worker:', error);
  }
  Atomics.store(ctrlView, base, 0);
  Atomics.sub(ctrlView, ctrlView.length - 2, 1);
  Atomics.notify(ctrlView, ctrlView.length - 2);
`;

/** What a worker is started with: the shared control and call buffers. */
export interface KernelWorkerData {
  readonly ctrl: SharedArrayBuffer;
  readonly calls: SharedArrayBuffer;
  readonly names: readonly string[];
  readonly index: number;
}

/** A started kernel worker, as the pool sees it in every runtime. */
export interface KernelWorker {
  /** Settles once the worker runs its loop (a page's main thread must not spin on a worker that has not started). */
  readonly started: Promise<void>;
  /** Delivers a shard's module and shared memory before the worker's next batch. */
  addShard(shard: number, module: WebAssembly.Module, memory: WebAssembly.Memory): void;
  terminate(): void;
}
