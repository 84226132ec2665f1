// Per-kernel timing where the adapter has no timestamp queries (llvmpipe,
// some browsers): every dispatch recorded during the profiled work is
// replayed alone, `repeats` times in one submit, and timed on the host to
// queue completion, less the time of an empty submit. Replays run after the
// profiled work has finished, so they cannot change its results; in-place
// kernels (add, rope) leave scratch values that the next forward step
// recomputes anyway.

export interface KernelTiming { label: string; ms: number }

export interface ReplayedDispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

async function submitAndWait(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  record(pass);
  pass.end();
  const t0 = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

export async function replayTimings(device: GPUDevice, dispatches: readonly ReplayedDispatch[], repeats = 3): Promise<KernelTiming[]> {
  await device.queue.onSubmittedWorkDone();
  const empty = Math.min(...await Promise.all([0, 1, 2].map(() => submitAndWait(device, () => {}))));
  const out: KernelTiming[] = [];
  for (const d of dispatches) {
    const ms = await submitAndWait(device, (pass) => {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      for (let i = 0; i < repeats; i++) pass.dispatchWorkgroups(d.x, d.y, d.z);
    });
    out.push({ label: d.label, ms: Math.max(0, ms - empty) / repeats });
  }
  return out;
}
