// Kernel workers on node:worker_threads (Node and Deno). The browser build
// replaces this module with src/browser/kernel-workers.ts (Web Workers).
import { createRequire } from 'node:module';
import {
  ADD_SHARD_SOURCE, CTRL, HEADER_WORDS, IDLE, RUN_SHARE_SOURCE, SPIN_MS, STOP, type KernelWorker, type KernelWorkerData,
} from './kernel-loop.ts';

// The worker blocks in its loop between batches, so it takes new shards from
// its port synchronously (receiveMessageOnPort) before each batch.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { ctrl, calls, names, port, index } = workerData;
const ctrlView = new Int32Array(ctrl);
const callView = new Float64Array(calls);
const instances = [];
const memories = [];
const base = ${HEADER_WORDS} + index * ${CTRL};
for (;;) {
  // Spin a while before sleeping: in decode, batches come every few hundred
  // microseconds, and a futex wake-up costs tens of them each time. A wake-up
  // is only a hint: run() stores the state before it notifies, so a worker
  // still spinning takes the batch first and the notify may wake it after the
  // batch is done. The state word alone says whether there is a share to run.
  const spinUntil = performance.now() + ${SPIN_MS};
  let state;
  for (let i = 0; (state = Atomics.load(ctrlView, base)) === ${IDLE}; i++) {
    if ((i & 255) === 255 && performance.now() > spinUntil) Atomics.wait(ctrlView, base, ${IDLE});
  }
  if (state === ${STOP}) break;
  let message;
  while ((message = receiveMessageOnPort(port))) {
    const { shard, module, memory } = message.message;
    ${ADD_SHARD_SOURCE}
  }
  ${RUN_SHARE_SOURCE}
}
`;

/** The main thread may block in Atomics.wait while workers finish (Node and Deno main threads can). */
export const MAIN_THREAD_MAY_WAIT = true;

export function startKernelWorker(data: KernelWorkerData): KernelWorker {
  const require = createRequire(import.meta.url);
  const { Worker, MessageChannel } = require('node:worker_threads') as typeof import('node:worker_threads');
  const channel = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...data, port: channel.port2 }, transferList: [channel.port2] });
  // Referenced until it runs (someone awaits `started`: an unreferenced worker would let a
  // process with nothing else to do exit first), then never what keeps a process alive.
  return {
    started: new Promise((resolve, reject) => {
      worker.once('online', () => { worker.unref(); resolve(); });
      worker.once('error', reject);
    }),
    addShard: (shard, module, memory) => channel.port1.postMessage({ shard, module, memory }),
    terminate: () => { void worker.terminate(); },
  };
}
