// GPU-side resources of the WebGPU backend: weights (uploaded once, in the
// layout of weight-layout.ts, split into parts above the binding limit),
// activations, latent caches and the backend's own scratch buffers.
import { bytesFor, type Activation, type DType, type LatentCache, type Weight, type WeightData } from '../backend.ts';
import type { Recorder } from './recorder.ts';
import { packPart, packedRowBytes, planParts, quantBase, vectorAsF32 } from './weight-layout.ts';
import { rowsFit, weightType } from '../../model/weight-types.ts';

export interface WeightPart {
  readonly buffer: GPUBuffer;
  /** First row of the part in the flattened [E·N] rows, and its row count. */
  readonly row0: number;
  readonly rows: number;
  readonly qBase: number;
}

export interface GpuWeight extends Weight {
  readonly parts: readonly WeightPart[];
  /** Rows per matrix (N) and row length (K); 1-D weights are one f32 row. */
  readonly N: number;
  readonly K: number;
  released: boolean;
}

export class GpuActivation implements Activation {
  released = false;
  constructor(readonly rows: number, readonly cols: number, readonly buffer: GPUBuffer) {}
}

/** The paged latent cache: one buffer per layer, [blocks · blockSize, width] f32, replaced by a larger one to grow. */
export interface GpuCache extends LatentCache {
  blocks: number;
  byteLength: number;
  buffers: GPUBuffer[];
  released: boolean;
}

const ACTIVATION_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class GpuResources {
  private readonly scratch = new Map<string, GPUBuffer>();

  constructor(private readonly rec: Recorder, private readonly maxPartBytes: number) {}

  /** Every weight splits into parts within the binding limit, and each part fits one buffer; else says which does not. */
  checkWeights(weights: readonly Omit<WeightData, 'bytes'>[], model: string): void {
    for (const w of weights) {
      const K = w.shape[w.shape.length - 1];
      try {
        if (w.shape.length > 1) planParts(w.name, w.dtype, w.shape, this.maxPartBytes);
        else if (K * 4 > this.rec.gpu.maxBufferSize) throw new Error(`${w.name}: ${K * 4} bytes exceed the GPU's maxBufferSize (${this.rec.gpu.maxBufferSize})`);
      } catch (error) {
        throw new Error(`${model} does not fit this GPU (${this.rec.gpu.description}): ${(error as Error).message}`);
      }
    }
  }

  uploadWeight(data: WeightData): GpuWeight {
    const expected = bytesFor(data.dtype, data.shape);
    if (data.bytes.byteLength !== expected) {
      throw new Error(`${data.name}: ${data.bytes.byteLength} bytes for ${data.dtype} [${data.shape.join(', ')}], expected ${expected}`);
    }
    const K = data.shape[data.shape.length - 1];
    if (!rowsFit(data.dtype, K)) {
      throw new Error(`${data.name}: ${data.dtype} rows of ${K} values are not whole ${weightType(data.dtype).block}-value blocks`);
    }
    if (data.shape.length === 1) {
      const values = vectorAsF32(data);
      const buffer = this.mappedBuffer(data.name, values.byteLength, (dst) => new Float32Array(dst.buffer).set(values));
      const part = { buffer, row0: 0, rows: 1, qBase: 0 };
      return { name: data.name, dtype: 'f32', shape: [...data.shape], byteLength: values.byteLength, parts: [part], N: 1, K, released: false };
    }
    const N = data.shape[data.shape.length - 2];
    const parts: WeightPart[] = [];
    try {
      for (const part of planParts(data.name, data.dtype, data.shape, this.maxPartBytes)) {
        const bytes = part.rows * packedRowBytes(data.dtype, K);
        const buffer = this.mappedBuffer(data.name, bytes, (dst) => packPart(data, part, dst));
        parts.push({ buffer, row0: part.row0, rows: part.rows, qBase: quantBase(data.dtype, part.rows, K) });
      }
    } catch (error) {
      for (const p of parts) p.buffer.destroy();
      throw error;
    }
    const byteLength = parts.reduce((a, p) => a + p.buffer.size, 0);
    return { name: data.name, dtype: data.dtype as DType, shape: [...data.shape], byteLength, parts, N, K, released: false };
  }

  createActivation(rows: number, cols: number): GpuActivation {
    const size = Math.max(16, rows * cols * 4);
    const buffer = this.allocate(`activation [${rows}, ${cols}]`, size, ACTIVATION_USAGE());
    return new GpuActivation(rows, cols, buffer);
  }

  createLatentCache(layers: number, blockSize: number, width: number): GpuCache {
    if (!(Number.isInteger(blockSize) && blockSize >= 1)) throw new RangeError(`latent cache: block size must be a positive integer, got ${blockSize}`);
    const limit = Math.min(this.rec.gpu.maxBinding, this.rec.gpu.maxBufferSize);
    const maxBlocks = Math.floor(limit / (blockSize * width * 4));
    if (maxBlocks < 1) throw new Error(`latent cache: one block of ${blockSize} positions × ${width} is more than one storage binding (${limit} bytes)`);
    const buffers = this.layerBuffers(layers, 16);
    return { layers, blockSize, width, blocks: 0, maxBlocks, byteLength: 0, buffers, released: false };
  }

  /** Replaces each layer's buffer by one of `blocks` blocks holding the old rows (copied on the GPU). */
  growLatentCache(cache: GpuCache, blocks: number): void {
    if (cache.released) throw new Error('WebGPU backend: growing a released latent cache');
    if (blocks <= cache.blocks) return;
    if (blocks > cache.maxBlocks) {
      throw new RangeError(`latent cache of ${blocks} blocks: one layer would exceed a storage binding (at most ${cache.maxBlocks} blocks of ${cache.blockSize} positions)`);
    }
    const bytes = blocks * cache.blockSize * cache.width * 4;
    const buffers = this.layerBuffers(cache.layers, bytes);
    const oldBytes = cache.blocks * cache.blockSize * cache.width * 4;
    if (oldBytes > 0) cache.buffers.forEach((old, l) => this.rec.copy(old, 0, buffers[l], 0, oldBytes));
    this.rec.flush();
    for (const old of cache.buffers) old.destroy();
    cache.buffers = buffers;
    cache.blocks = blocks;
    cache.byteLength = cache.layers * bytes;
  }

  private layerBuffers(layers: number, bytes: number): GPUBuffer[] {
    const buffers: GPUBuffer[] = [];
    try {
      for (let l = 0; l < layers; l++) buffers.push(this.allocate(`latent cache layer ${l}`, Math.max(16, bytes), ACTIVATION_USAGE()));
    } catch (error) {
      for (const b of buffers) b.destroy();
      throw error;
    }
    return buffers;
  }

  /** A scratch buffer of at least `bytes` for `purpose`, reused (stream order keeps reuse safe). */
  scratchBuffer(purpose: string, bytes: number): GPUBuffer {
    const existing = this.scratch.get(purpose);
    if (existing && existing.size >= bytes) return existing;
    if (existing) { this.rec.flush(); existing.destroy(); }
    const buffer = this.allocate(`scratch ${purpose}`, Math.max(16, Math.ceil(bytes / 16) * 16), ACTIVATION_USAGE());
    this.scratch.set(purpose, buffer);
    return buffer;
  }

  destroyScratch(): void {
    for (const b of this.scratch.values()) b.destroy();
    this.scratch.clear();
  }

  private allocate(what: string, size: number, usage: number): GPUBuffer {
    if (size > this.rec.gpu.maxBufferSize) throw new Error(`WebGPU: ${what} needs ${size} bytes, more than maxBufferSize (${this.rec.gpu.maxBufferSize})`);
    try {
      return this.rec.watch(`allocating ${what} (${size} bytes)`, () => this.rec.device.createBuffer({ size, usage, label: what }));
    } catch (error) {
      throw new Error(`WebGPU: allocating ${what} (${size} bytes) failed: ${(error as Error).message}`);
    }
  }

  private mappedBuffer(name: string, bytes: number, fill: (dst: Uint8Array) => void): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    if (size > this.rec.gpu.maxBufferSize) throw new Error(`${name}: ${size} bytes exceed the GPU's maxBufferSize (${this.rec.gpu.maxBufferSize})`);
    let buffer: GPUBuffer;
    try {
      buffer = this.rec.watch(`uploading ${name} (${size} bytes)`, () => this.rec.device.createBuffer({
        size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true, label: name,
      }));
      fill(new Uint8Array(buffer.getMappedRange()));
    } catch (error) {
      throw new Error(`${name}: cannot allocate ${size} bytes on the GPU: ${(error as Error).message}`);
    }
    buffer.unmap();
    return buffer;
  }
}
