// Kernel workers as Web Workers (the browser build's replacement for
// src/backend/cpu/threads/kernel-workers-node.ts, same exports). They need
// shared memory, so a page uses them only when it is cross-origin isolated.
import {
  ADD_SHARD_SOURCE, CTRL, HEADER_WORDS, IDLE, RUN_SHARE_SOURCE, SHARD, SPIN_MS, STOP, type KernelWorker, type KernelWorkerData,
} from '../backend/cpu/threads/kernel-loop.ts';

// A Web Worker has no synchronous message receive: it sleeps with
// Atomics.waitAsync, which returns to its event loop, so shard messages
// arrive between batches; a batch for a shard not yet seen waits for its message.
const WORKER_SOURCE = `
let ctrlView, callView, names, base;
const instances = [];
const memories = [];
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));
onmessage = ({ data }) => {
  if (data.ctrl) {
    ctrlView = new Int32Array(data.ctrl);
    callView = new Float64Array(data.calls);
    names = data.names;
    base = ${HEADER_WORDS} + data.index * ${CTRL};
    postMessage('started');
    void loop();
    return;
  }
  const { shard, module, memory } = data;
  ${ADD_SHARD_SOURCE}
};
async function loop() {
  for (;;) {
    const spinUntil = performance.now() + ${SPIN_MS};
    for (let i = 0; Atomics.load(ctrlView, base) === ${IDLE}; i++) {
      if ((i & 255) === 255 && performance.now() > spinUntil) {
        const wait = Atomics.waitAsync(ctrlView, base, ${IDLE});
        if (wait.async) await wait.value;
      }
    }
    if (Atomics.load(ctrlView, base) === ${STOP}) { close(); return; }
    // Let a shard's message arrive (the other threads go on meanwhile).
    if (!instances[ctrlView[${SHARD}]]) await nextTask();
    ${RUN_SHARE_SOURCE}
  }
}
`;

/** A page's main thread may not block in Atomics.wait; a worker running the engine may. */
export const MAIN_THREAD_MAY_WAIT = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

let workerUrl: string | undefined;

export function startKernelWorker(data: KernelWorkerData): KernelWorker {
  workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(workerUrl, { name: `edgeseek kernels ${data.index + 1}` });
  const started = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (event) => reject(new Error(`edgeseek kernel worker ${data.index + 1} failed to start: ${event.message}`));
  });
  worker.postMessage(data);
  return {
    started,
    addShard: (shard, module, memory) => worker.postMessage({ shard, module, memory }),
    terminate: () => worker.terminate(),
  };
}
