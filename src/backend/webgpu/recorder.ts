// The command stream of the WebGPU backend: one command encoder and one
// compute pass collect every dispatch until flush(), which uploads the
// per-dispatch parameters and small inputs (cos/sin tables, token ids) and
// submits once. Pipelines are compiled once per (shader, entry point,
// override constants) and cached. Errors the device reports asynchronously
// (validation, out-of-memory, device loss) are kept and thrown, with what
// was being done, at the next flush or read.
import type { GpuDevice } from './device.ts';
import { replayTimings, type KernelTiming, type ReplayedDispatch } from './replay-timing.ts';
import type { ShaderName, ShaderSources } from './shader-source.ts';

export type { KernelTiming };

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number };

/** Host data written into a GPU buffer chunk at flush; reused after the submit. */
class UploadArena {
  private readonly chunks: { buffer: GPUBuffer; host: Uint8Array<ArrayBuffer>; used: number }[] = [];
  private current = 0;
  /** While profiling by replay, recorded dispatches keep their data: nothing is reused. */
  retain = false;

  constructor(private readonly device: GPUDevice, private readonly usage: number, private readonly chunkBytes: number,
    private readonly align: number) {}

  /** Reserves `bytes` (aligned) and returns where they live and a host view to fill. */
  alloc(bytes: number): { buffer: GPUBuffer; offset: number; host: Uint8Array } {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    for (;;) {
      let chunk = this.chunks[this.current];
      if (!chunk) {
        const capacity = Math.max(this.chunkBytes, Math.ceil(size / this.align) * this.align);
        chunk = { buffer: this.device.createBuffer({ size: capacity, usage: this.usage | GPUBufferUsage.COPY_DST }), host: new Uint8Array(capacity), used: 0 };
        this.chunks.push(chunk);
      }
      if (chunk.used + size <= chunk.host.byteLength) {
        const offset = chunk.used;
        chunk.used = Math.ceil((offset + size) / this.align) * this.align;
        return { buffer: chunk.buffer, offset, host: chunk.host.subarray(offset, offset + size) };
      }
      this.current++;
    }
  }

  upload(queue: GPUQueue): void {
    for (const chunk of this.chunks) {
      if (chunk.used > 0) queue.writeBuffer(chunk.buffer, 0, chunk.host as Uint8Array<ArrayBuffer>, 0, Math.min(chunk.used, chunk.host.byteLength));
      chunk.used = 0;
    }
    this.current = 0;
  }

  destroy(): void { for (const c of this.chunks) c.buffer.destroy(); }
}

export class Recorder {
  readonly device: GPUDevice;
  private readonly modules = new Map<ShaderName, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly uniforms: UploadArena;
  private readonly inputs: UploadArena;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  /** Queue submissions and buffer read-backs so far (a forward step should make one of each). */
  readonly counts = { submits: 0, readBacks: 0 };
  private failure: string | null = null;
  private lostReason: string | null = null;
  /** Per-dispatch GPU time (timestamp queries), when profiling. */
  private profiler: { set: GPUQuerySet; resolve: GPUBuffer; labels: string[]; capacity: number } | null = null;
  /** Without timestamp queries: the dispatches recorded while profiling, replayed one by one afterwards. */
  private replay: ReplayedDispatch[] | null = null;

  constructor(readonly gpu: GpuDevice, private readonly sources: ShaderSources) {
    this.device = gpu.device;
    const uniformAlign = Math.max(256, this.device.limits.minUniformBufferOffsetAlignment);
    const storageAlign = Math.max(256, this.device.limits.minStorageBufferOffsetAlignment);
    this.uniforms = new UploadArena(this.device, GPUBufferUsage.UNIFORM, 64 * 1024, uniformAlign);
    this.inputs = new UploadArena(this.device, GPUBufferUsage.STORAGE, 1024 * 1024, storageAlign);
    void this.device.lost.then((info) => { this.lostReason = `${info.reason}: ${info.message}`; });
    this.device.addEventListener?.('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.failure ??= `WebGPU error: ${error.message}`;
    });
  }

  /** Throws if the device was lost or reported an error. */
  check(doing: string): void {
    if (this.lostReason !== null) throw new Error(`WebGPU device lost (${this.lostReason}) while ${doing}`);
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      throw new Error(`${failure} (reported by the time of ${doing})`);
    }
  }

  /** Records the first error of a scope as a failure naming `what` (allocation of a weight, ...). */
  watch<T>(what: string, create: () => T): T {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    try {
      return create();
    } finally {
      for (let i = 0; i < 2; i++) {
        void this.device.popErrorScope().then((error) => {
          if (error) this.failure ??= `WebGPU: ${what} failed: ${error.message}`;
        });
      }
    }
  }

  pipeline(shader: ShaderName, entryPoint: string, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${shader}:${entryPoint}:${JSON.stringify(constants)}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      let module = this.modules.get(shader);
      if (!module) {
        module = this.device.createShaderModule({ code: this.sources.get(shader)!, label: shader });
        this.modules.set(shader, module);
      }
      pipeline = this.watch(`compiling ${key}`, () => this.device.createComputePipeline({
        label: key, layout: 'auto', compute: { module: module!, entryPoint, constants },
      }));
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A uniform block for one dispatch: `fill` writes the fields (16 u32/f32 words at most). */
  params(words: readonly number[], floats: ReadonlySet<number> = new Set()): Binding {
    const { buffer, offset, host } = this.uniforms.alloc(64);
    const view = new DataView(host.buffer, host.byteOffset, 64);
    words.forEach((v, i) => { if (floats.has(i)) view.setFloat32(i * 4, v, true); else view.setUint32(i * 4, v >>> 0, true); });
    for (let i = words.length; i < 16; i++) view.setUint32(i * 4, 0, true);
    return { buffer, offset, size: 64 };
  }

  /** Small per-dispatch input (cos/sin table, token ids) uploaded at flush. */
  input(data: ArrayBufferView): Binding {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const { buffer, offset, host } = this.inputs.alloc(bytes.byteLength);
    host.set(bytes);
    return { buffer, offset, size: host.byteLength };
  }

  dispatch(label: string, pipeline: GPUComputePipeline, bindings: Record<number, Binding>, groups: number, z = 1): void {
    this.check(label);
    const entries: GPUBindGroupEntry[] = Object.entries(bindings).map(([binding, b]) => ({
      binding: Number(binding), resource: 'buffer' in b ? b : { buffer: b },
    }));
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const [x, y] = splitGroups(groups);
    const pass = this.computePass(label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) { pass.end(); this.pass = null; }
    this.pending++;
    this.replay?.push({ label, pipeline, bindGroup, x, y, z });
  }

  /** Records a buffer copy (ends the open compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.pending++;
  }

  get hasPending(): boolean { return this.pending > 0; }

  flush(): void {
    this.check('flush');
    if (!this.encoder) return;
    this.endPass();
    const profiler = this.profiler;
    if (profiler && profiler.labels.length > 0) {
      this.encoder.resolveQuerySet(profiler.set, 0, profiler.labels.length * 2, profiler.resolve, 0);
    }
    const commands = this.encoder.finish();
    this.encoder = null;
    this.uniforms.upload(this.device.queue);
    this.inputs.upload(this.device.queue);
    this.device.queue.submit([commands]);
    this.counts.submits++;
    this.pending = 0;
  }

  /** Copies `bytes` at `offset` of a buffer back to JS (flushes first). */
  async readBuffer(src: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ size: Math.max(4, size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      this.copy(src, offset, staging, 0, size);
      this.counts.readBacks++;
      this.flush();
      await staging.mapAsync(GPUMapMode.READ);
      this.check('reading back results');
      return staging.getMappedRange().slice(0, bytes);
    } catch (error) {
      this.check('reading back results');
      throw error;
    } finally {
      staging.destroy();
    }
  }

  /**
   * Starts timing every dispatch: with timestamp queries (one pass each) where
   * the device has them (at most `capacity` dispatches: a query set holds
   * 4096 timestamps), else by replaying each recorded dispatch alone after
   * the profiled work (replayTimings: host wall time, less an empty submit).
   */
  startProfiling(capacity = 2048): 'timestamp-query' | 'replay' {
    this.flush();
    if (!this.gpu.timestamps) {
      this.replay = [];
      this.uniforms.retain = this.inputs.retain = true;
      return 'replay';
    }
    const set = this.device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
    const resolve = this.device.createBuffer({ size: capacity * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.profiler = { set, resolve, labels: [], capacity };
    return 'timestamp-query';
  }

  /** Stops profiling and returns the time of each dispatch since startProfiling. */
  async stopProfiling(): Promise<KernelTiming[]> {
    const replay = this.replay;
    if (replay) {
      this.replay = null;
      this.flush();
      const timings = await replayTimings(this.device, replay);
      this.uniforms.retain = this.inputs.retain = false;
      this.uniforms.upload(this.device.queue);
      this.inputs.upload(this.device.queue);
      return timings;
    }
    const profiler = this.profiler;
    if (!profiler) return [];
    this.flush();
    const count = profiler.labels.length;
    this.profiler = null;
    if (count === 0) return [];
    const raw = new BigUint64Array(await this.readBuffer(profiler.resolve, 0, count * 16));
    const out = profiler.labels.map((label, i) => ({ label, ms: Number(raw[2 * i + 1] - raw[2 * i]) / 1e6 }));
    profiler.set.destroy();
    profiler.resolve.destroy();
    return out;
  }

  destroy(): void {
    this.uniforms.destroy();
    this.inputs.destroy();
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(label: string): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const profiler = this.profiler;
    if (profiler && profiler.labels.length < profiler.capacity) {
      const i = profiler.labels.length;
      profiler.labels.push(label);
      this.pass = this.commandEncoder().beginComputePass({
        timestampWrites: { querySet: profiler.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
    } else {
      this.pass = this.commandEncoder().beginComputePass();
    }
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}

/** Workgroup counts above the 65535 per-dimension limit go to a second dimension (shaders linearize). */
export function splitGroups(groups: number): [number, number] {
  if (groups <= 65535) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}
