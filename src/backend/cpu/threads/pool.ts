// Optional multi-threaded CPU backend (node:worker_threads, in Node and Deno): worker threads
// instantiate the threads build of the Wasm module (build/edgeseek-threads.wasm,
// shared memory) over the same memories as the main thread, and a batch of
// kernel calls is spread across main + workers. The main thread always takes a
// share and then waits with Atomics — no message round-trips per call. The
// kernels are unchanged: a matmul is split into row ranges, which write
// disjoint outputs.
import { createRequire } from 'node:module';

/** One kernel invocation: an export of the module and its arguments (pointers and sizes). */
export interface KernelCall {
  readonly kernel: string;
  readonly args: readonly number[];
}

const MAX_CALLS = 256;
/** How long an idle thread polls for the next batch before it sleeps (ms). */
const SPIN_MS = 5;
const MAX_ARGS = 16;
// Per-worker control words: state (0 idle, 1 run, 2 stop), shard, first call, call stride.
const CTRL = 4;

// The worker's code, evaluated with `eval: true` so no file path has to
// survive bundling or the src/dist split.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { ctrl, calls, names, port, index } = workerData;
const ctrlView = new Int32Array(ctrl);
const callView = new Float64Array(calls);
const instances = [];
const base = index * ${CTRL};
for (;;) {
  // Spin a while before sleeping: in decode, batches come every few hundred
  // microseconds, and a futex wake-up costs tens of them each time.
  const spinUntil = performance.now() + ${SPIN_MS};
  for (let i = 0; Atomics.load(ctrlView, base) === 0; i++) {
    if ((i & 255) === 255 && performance.now() > spinUntil) { Atomics.wait(ctrlView, base, 0); break; }
  }
  const state = Atomics.load(ctrlView, base);
  if (state === 2) break;
  let message;
  while ((message = receiveMessageOnPort(port))) {
    const { shard, module, memory } = message.message;
    instances[shard] = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('edgeseek.wasm aborted'); } } }).exports;
  }
  const shard = ctrlView[base + 1];
  const count = ctrlView[ctrlView.length - 1];
  const exports = instances[shard];
  for (let c = ctrlView[base + 2]; c < count; c += ctrlView[base + 3]) {
    const at = c * ${MAX_ARGS + 2};
    const fn = exports[names[callView[at]]];
    const n = callView[at + 1];
    const a = [];
    for (let i = 0; i < n; i++) a.push(callView[at + 2 + i]);
    fn(...a);
  }
  Atomics.store(ctrlView, base, 0);
  Atomics.sub(ctrlView, ctrlView.length - 2, 1);
  Atomics.notify(ctrlView, ctrlView.length - 2);
}
`;

interface NodeWorker { terminate(): Promise<number>; unref(): void }

export class ThreadPool {
  private readonly ctrl: Int32Array;
  private readonly calls: Float64Array;
  private readonly names: string[];
  private readonly workers: NodeWorker[] = [];
  private readonly ports: { postMessage(message: unknown): void }[] = [];

  /** `threads` counts the main thread: 2 means one worker. */
  constructor(readonly threads: number, kernelNames: readonly string[]) {
    const require = createRequire(import.meta.url);
    const { Worker, MessageChannel } = require('node:worker_threads') as typeof import('node:worker_threads');
    const workers = threads - 1;
    // + pending counter and call count at the end.
    this.ctrl = new Int32Array(new SharedArrayBuffer((workers * CTRL + 2) * 4));
    this.calls = new Float64Array(new SharedArrayBuffer(MAX_CALLS * (MAX_ARGS + 2) * 8));
    this.names = [...kernelNames];
    for (let i = 0; i < workers; i++) {
      const channel = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { ctrl: this.ctrl.buffer, calls: this.calls.buffer, names: this.names, port: channel.port2, index: i },
        transferList: [channel.port2],
      });
      worker.unref();
      this.workers.push(worker);
      this.ports.push(channel.port1);
    }
  }

  /** Makes a shard's shared memory known to every worker (delivered before their next batch). */
  addShard(shard: number, module: WebAssembly.Module, memory: WebAssembly.Memory): void {
    for (const port of this.ports) port.postMessage({ shard, module, memory });
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
      this.calls[at] = this.names.indexOf(call.kernel);
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
    for (let c = 0; c < calls.length; c += workers + 1) local(calls[c]);
    // The workers' shares usually end about when this thread's does: poll briefly before sleeping.
    const spinUntil = performance.now() + SPIN_MS;
    for (let i = 0, left = Atomics.load(ctrl, pending); left > 0; i++, left = Atomics.load(ctrl, pending)) {
      if ((i & 255) === 255 && performance.now() > spinUntil) Atomics.wait(ctrl, pending, left);
    }
  }

  dispose(): void {
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctrl, w * CTRL, 2);
      Atomics.notify(this.ctrl, w * CTRL);
    }
    for (const worker of this.workers) void worker.terminate();
    this.workers.length = 0;
  }
}
