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
 * The pool's control words: first the batch's (workers still running it, its
 * call count, the next call to take, its shard, and that shard's memory size
 * in 64 KiB pages as the main thread sees it), then CTRL per worker from
 * HEADER_WORDS.
 */
export const PENDING = 0;
export const COUNT = 1;
export const NEXT = 2;
export const SHARD = 3;
export const PAGES = 4;
export const HEADER_WORDS = 5;
/**
 * Per-worker control words: state, and what failed in the last batch (0:
 * nothing, 1: the worker before its first call, c + 2: call c). The state is
 * IDLE, RUN (a batch for this worker), RUNNING (the worker took it) or STOP; a
 * worker takes its batch, or the main thread withdraws it once every call is
 * taken, whichever compareExchange from RUN comes first.
 */
export const CTRL = 2;
export const IDLE = 0;
export const RUN = 1;
export const STOP = 2;
export const RUNNING = 3;
/** Index of the failure word within a worker's control words. */
export const CTRL_FAILED = 1;

/**
 * Statements that make a shard known to a worker, given `shard`, `module`,
 * `memory` and the worker's `instances` and `memories` (by shard). A shard
 * that fails to instantiate leaves its calls to the other threads (the error
 * goes to stderr) instead of ending the worker.
 */
export const ADD_SHARD_SOURCE = `
  try {
    instances[shard] = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('edgeseek.wasm aborted'); } } }).exports;
    memories[shard] = memory;
  } catch (error) {
    console.error('edgeseek kernel worker: shard', shard, error);
  }
`;

/**
 * Statements that run this worker's share of a batch, given `ctrlView`
 * (Int32Array over the control words), `callView` (Float64Array over the
 * calls), `names` (kernel names by index), `base` (this worker's first control
 * word), `instances` and `memories` (each shard's kernels and
 * WebAssembly.Memory, by shard); then mark it done.
 * Every thread takes the next call from a shared counter until none are left,
 * so a thread the OS deschedules (other jobs on the machine) leaves its part
 * to the others instead of holding up the batch — and a worker that wakes
 * only after the others took every call is withdrawn, not waited for.
 */
export const RUN_SHARE_SOURCE = `
  // Taken only if the main thread has not withdrawn it (all calls done without this worker).
  if (Atomics.compareExchange(ctrlView, base, ${RUN}, ${RUNNING}) === ${RUN}) {
    // The batch's words are read only now that it is this worker's.
    const shard = ctrlView[${SHARD}];
    const exports = instances[shard];
    const memory = memories[shard];
    const count = ctrlView[${COUNT}];
    let c = -1;
    // A worker without the shard (its message not yet handled, or its
    // instantiation failed) takes no call; the other threads run them.
    if (exports) try {
      // The main thread grows the shared memory as it allocates, and V8 brings
      // other threads' view of it up to date. A worker's view has been seen to
      // stay short (CI: a trap at valid addresses in memory.fill, which checks
      // against that view; why it stayed short is not known); grow(0) re-reads
      // the memory's true size.
      const needed = ctrlView[${PAGES}] * 65536;
      if (memory.buffer.byteLength < needed) memory.grow(0);
      if (memory.buffer.byteLength < needed) {
        throw new Error('this worker sees ' + memory.buffer.byteLength + ' bytes of shard ' + shard + ', the main thread ' + needed);
      }
      while ((c = Atomics.add(ctrlView, ${NEXT}, 1)) < count) {
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
      ctrlView[base + ${CTRL_FAILED}] = c + 2;
      console.error('edgeseek kernel worker:', error);
    }
    Atomics.store(ctrlView, base, ${IDLE});
    Atomics.sub(ctrlView, ${PENDING}, 1);
    Atomics.notify(ctrlView, ${PENDING});
  }
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
