// The WebGPU backend: every op records one or a few compute dispatches
// (shaders/*.wgsl) into the recorder's single command encoder; flush() submits
// them at once, read() flushes and maps a staging buffer. Weights, the latent
// cache and activations live in GPU buffers (resources.ts).
import {
  cacheSlot, checkCacheRows, viewOf,
  type AbsorbedAttentionWeights, type Activation, type Backend, type CacheRows, type DType, type ExpertWeights, type GatingParams,
  type LatentCache, type MlaShape, type Operand, type Placement, type RoutePlan, type View, type Weight, type WeightData,
} from '../backend.ts';
import { requestGpuDevice, type GpuDevice } from './device.ts';
import { recordMlaAttention } from './mla.ts';
import { recordMoeExperts, routeOnGpu, type GpuRoutePlan } from './moe.ts';
import { Recorder, splitGroups, type Binding, type KernelTiming } from './recorder.ts';
import { GpuActivation, GpuResources, type GpuCache, type GpuWeight } from './resources.ts';
import { loadShaderSources, type ShaderSources } from './shader-source.ts';
import { DTYPES } from '../../model/weight-types.ts';
import { gpuTypeCode, threadsPerRow } from './weight-layout.ts';

export interface WebGpuBackendOptions {
  /** Accepted for symmetry with the CPU backend's options (unused). */
  wasmModule?: WebAssembly.Module;
  /** Largest weight part in bytes (default: the device's storage binding limit); tests force splits with it. */
  maxPartBytes?: number;
  /**
   * The WGSL sources, or the URL of the shaders/ directory, where a bundle
   * moves them away from <package>/shaders/ (default: found next to this module).
   */
  shaders?: ShaderSources | URL;
}

export async function createWebGpuBackend(gpu: GPU, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const sources = options.shaders instanceof Map ? options.shaders : loadShaderSources(options.shaders as URL | undefined);
  const [device, shaders] = await Promise.all([requestGpuDevice(gpu), sources]);
  return new WebGpuBackend(new Recorder(device, shaders), options);
}

/** A strided f32 operand: element (r, c) at offset + r·stride + c of buffer. */
export interface Strided { buffer: GPUBuffer; offset: number; stride: number; rows: number; cols: number }

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly weightDTypes: readonly DType[] = DTYPES;
  readonly resources: GpuResources;

  constructor(readonly rec: Recorder, options: WebGpuBackendOptions = {}) {
    const limit = Math.min(rec.gpu.maxBinding, rec.gpu.maxBufferSize);
    this.resources = new GpuResources(rec, Math.min(limit, options.maxPartBytes ?? limit));
  }

  get gpu(): GpuDevice { return this.rec.gpu; }

  checkWeights(weights: readonly Omit<WeightData, 'bytes'>[], model: string): void {
    this.resources.checkWeights(weights, model);
  }

  uploadWeight(data: WeightData, _placement: Placement): Weight {
    this.rec.check(`uploading ${data.name}`);
    return this.resources.uploadWeight(data);
  }

  createActivation(rows: number, cols: number): Activation {
    return this.resources.createActivation(rows, cols);
  }

  createLatentCache(layers: number, blockSize: number, width: number): LatentCache {
    return this.resources.createLatentCache(layers, blockSize, width);
  }

  growLatentCache(cache: LatentCache, blocks: number): void {
    this.resources.growLatentCache(cache as GpuCache, blocks);
  }

  release(resource: Activation | Weight | LatentCache): void {
    if (this.rec.hasPending) this.rec.flush();
    if (resource instanceof GpuActivation) {
      if (!resource.released) resource.buffer.destroy();
      resource.released = true;
    } else if ('buffers' in resource) {
      const cache = resource as GpuCache;
      if (!cache.released) for (const b of cache.buffers) b.destroy();
      cache.released = true;
    } else {
      const weight = resource as GpuWeight;
      if (!weight.released) for (const p of weight.parts) p.buffer.destroy();
      weight.released = true;
    }
  }

  write(dst: Operand, data: Float32Array): void {
    const v = viewOf(dst);
    const act = this.act(v.act);
    const rows = data.length / v.cols;
    if (!Number.isInteger(rows) || rows > act.rows) throw new RangeError(`write of ${data.length} values into ${act.rows}×${v.cols}`);
    // queue.writeBuffer runs before recorded-but-unsubmitted work: submit that first.
    if (this.rec.hasPending) this.rec.flush();
    if (v.cols === act.cols) {
      this.rec.device.queue.writeBuffer(act.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    for (let r = 0; r < rows; r++) {
      this.rec.device.queue.writeBuffer(act.buffer, (r * act.cols + v.offset) * 4, data.buffer, data.byteOffset + r * v.cols * 4, v.cols * 4);
    }
  }

  async read(src: Operand, row0 = 0, rows?: number): Promise<Float32Array> {
    const v = viewOf(src);
    const act = this.act(v.act);
    const count = rows ?? act.rows - row0;
    if (row0 < 0 || row0 + count > act.rows) throw new RangeError(`read of rows [${row0}, ${row0 + count}) from ${act.rows}`);
    const all = new Float32Array(await this.rec.readBuffer(act.buffer, row0 * act.cols * 4, count * act.cols * 4));
    if (v.cols === act.cols) return all;
    const out = new Float32Array(count * v.cols);
    for (let r = 0; r < count; r++) out.set(all.subarray(r * act.cols + v.offset, r * act.cols + v.offset + v.cols), r * v.cols);
    return out;
  }

  flush(): void { this.rec.flush(); }

  gatherRows(src: Operand, rows: Int32Array, dst: Operand): void {
    const s = this.strided(src);
    const d = this.strided(dst);
    if (rows.length > d.rows) throw new RangeError(`gatherRows of ${rows.length} rows into ${d.rows}`);
    for (const r of rows) if (!(r >= 0 && r < s.rows)) throw new RangeError(`gatherRows: row ${r} of ${s.rows}`);
    this.moveRows('gather', { ...s, rows: rows.length }, d, Uint32Array.from(rows));
  }

  /** gather: o[r] = a[idx[r]]; scatter: o[idx[r]] = a[r] — for r < a.rows, a.cols columns. */
  private moveRows(op: 'gather' | 'scatter', a: Strided, o: Strided, idx: Uint32Array): void {
    const count = a.rows * a.cols;
    if (count === 0) return;
    if (a.buffer === o.buffer) throw new Error(`${op}: source and destination in one buffer (not supported on WebGPU)`);
    const groups = Math.ceil(count / 64);
    const [gx] = splitGroups(groups);
    const params = this.rec.params([a.rows, a.cols, gx, 0, a.offset, a.stride, 0, 0, o.offset, o.stride]);
    this.rec.dispatch(op, this.rec.pipeline('elementwise', op), { 0: params, 1: a.buffer, 3: o.buffer, 4: this.rec.input(idx) }, groups);
  }

  embed(ids: Int32Array, table: Weight, out: Operand): void {
    const w = this.weight(table);
    const [vocab, H] = w.shape;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new RangeError(`token id ${id} is outside the vocabulary (${vocab})`);
    }
    const o = this.strided(out);
    const idBuffer = this.rec.input(Uint32Array.from(ids));
    const pipeline = this.rec.pipeline('embed', 'main', { WDTYPE: gpuTypeCode(w.dtype) });
    const groups = Math.ceil((ids.length * Math.ceil(H / 4)) / 64);
    const [gx] = splitGroups(groups);
    for (const part of w.parts) {
      const params = this.rec.params([ids.length, H, part.row0, part.rows, part.qBase, o.offset, o.stride, gx]);
      this.rec.dispatch(`embed ${w.name}`, pipeline, { 0: params, 1: idBuffer, 2: part.buffer, 3: o.buffer }, groups);
    }
  }

  matmul(x: Operand, weight: Weight, out: Operand, rows?: number): void {
    const w = this.weight(weight);
    if (w.shape.length !== 2) throw new Error(`matmul: ${w.name} has shape [${w.shape.join(', ')}], expected [N, K]`);
    const xs = this.strided(x);
    const T = rows ?? xs.rows;
    if (xs.cols !== w.K) throw new Error(`matmul ${w.name}: x has ${xs.cols} columns, the weight ${w.K}`);
    this.matmulRecord(w, xs, this.strided(out), T, null);
  }

  /**
   * Records out = x·Wᵀ. With `batch`, W is stacked [Z, N, K] and matrix z reads
   * x columns from xBatch·z and writes out columns from oBatch·z.
   */
  matmulRecord(w: GpuWeight, x: Strided, out: Strided, T: number, batch: { xBatch: number; oBatch: number } | null): void {
    const tpr = threadsPerRow(w.K);
    const pipeline = this.rec.pipeline('matmul', 'main', { WDTYPE: gpuTypeCode(w.dtype), TPR: tpr });
    const tiles = Math.ceil(T / 16);
    for (const part of w.parts) {
      const matrix0 = batch ? part.row0 / w.N : 0;
      const N = batch ? w.N : part.rows;
      const z = batch ? part.rows / w.N : 1;
      const oOff = batch ? out.offset + matrix0 * batch.oBatch : out.offset + part.row0;
      const xOff = batch ? x.offset + matrix0 * batch.xBatch : x.offset;
      const groups = Math.ceil((N * tpr) / 64) * tiles;
      const [gx] = splitGroups(groups);
      const params = this.rec.params([
        N, w.K, T, part.qBase, xOff, x.stride, batch?.xBatch ?? 0, 0,
        oOff, out.stride, batch?.oBatch ?? 0, batch ? w.N : 0, gx,
      ]);
      this.rec.dispatch(`matmul ${w.name}`, pipeline, { 0: params, 1: x.buffer, 2: part.buffer, 3: out.buffer }, groups, z);
    }
  }

  rmsnorm(x: Operand, weight: Weight, eps: number, out: Operand): void {
    const w = this.weight(weight);
    const xs = this.strided(x);
    const o = this.strided(out);
    if (w.K !== xs.cols) throw new Error(`rmsnorm ${w.name}: ${w.K} weights for rows of ${xs.cols}`);
    const params = this.rec.params([xs.cols, xs.offset, xs.stride, o.offset, o.stride, eps], new Set([5]));
    const inPlace = o.buffer === xs.buffer;
    const bindings: Record<number, Binding> = { 0: params, 1: xs.buffer, 2: w.parts[0].buffer };
    if (!inPlace) bindings[3] = o.buffer;
    this.rec.dispatch(`rmsnorm ${w.name}`, this.rec.pipeline('rmsnorm', inPlace ? 'in_place' : 'main'), bindings, xs.rows);
  }

  rope(x: Operand, cosSin: Float32Array, heads: number, headStride: number, dim: number): void {
    const xs = this.strided(x);
    const rows = cosSin.length / dim;
    if (!Number.isInteger(rows) || rows > xs.rows) throw new RangeError(`rope: cos/sin table of ${cosSin.length} for dim ${dim} and ${xs.rows} rows`);
    const groups = Math.ceil((rows * heads * dim) / 2 / 64);
    const [gx] = splitGroups(groups);
    const params = this.rec.params([rows, heads, dim / 2, headStride, xs.offset, xs.stride, gx]);
    this.rec.dispatch('rope', this.rec.pipeline('rope', 'main'), { 0: params, 1: xs.buffer, 2: this.rec.input(cosSin) }, groups);
  }

  add(x: Operand, y: Operand): void {
    this.elementwise('add', this.strided(x), this.strided(y), null);
  }

  swiglu(gate: Operand, up: Operand, out: Operand): void {
    this.elementwise('swiglu', this.strided(gate), this.strided(up), this.strided(out));
  }

  /** add: a += b; swiglu: o = silu(a)·b — over a's rows and columns. */
  elementwise(op: 'add' | 'swiglu', a: Strided, b: Strided | null, o: Strided | null): void {
    const count = a.rows * a.cols;
    if (count === 0) return;
    const groups = Math.ceil(count / 64);
    const [gx] = splitGroups(groups);
    const params = this.rec.params([a.rows, a.cols, gx, 0, a.offset, a.stride, b?.offset ?? 0, b?.stride ?? 0, o?.offset ?? 0, o?.stride ?? 0]);
    const bindings: Record<number, Binding> = { 0: params, 1: a.buffer };
    if (b) bindings[2] = b.buffer;
    if (b && b.buffer === a.buffer) throw new Error(`${op}: both operands in one activation (not supported on WebGPU)`);
    const inPlace = o !== null && o.buffer === a.buffer;
    if (o && !inPlace) bindings[3] = o.buffer;
    if (inPlace && op !== 'swiglu') throw new Error(`${op}: output in the input's activation (not supported on WebGPU)`);
    this.rec.dispatch(op, this.rec.pipeline('elementwise', inPlace ? 'swiglu_in_place' : op), bindings, groups);
  }

  cacheWrite(cache: LatentCache, layer: number, rows: CacheRows, c: Operand, kpe: Operand): void {
    const buffer = this.cacheBuffer(cache, layer);
    const cs = this.strided(c);
    const ks = this.strided(kpe);
    checkCacheRows(cache, rows, cs.rows);
    const slots = Uint32Array.from({ length: cs.rows }, (_, t) => cacheSlot(rows, t, cache.blockSize));
    const row = (offset: number, cols: number): Strided => ({ buffer, offset, stride: cache.width, rows: cache.blocks * cache.blockSize, cols });
    this.moveRows('scatter', cs, row(0, cs.cols), slots);
    this.moveRows('scatter', ks, row(cs.cols, ks.cols), slots);
  }

  mlaAttention(
    q: Operand, cache: LatentCache, layer: number, rows: CacheRows,
    weights: AbsorbedAttentionWeights, shape: MlaShape, out: Operand,
  ): void {
    const qs = this.strided(q);
    checkCacheRows(cache, rows, qs.rows);
    recordMlaAttention(this, qs, this.cacheBuffer(cache, layer), cache.blockSize, rows,
      this.weight(weights.wkb), this.weight(weights.wvb), shape, this.strided(out));
  }

  route(routerLogits: Operand, params: GatingParams): RoutePlan {
    return routeOnGpu(this, this.strided(routerLogits), params);
  }

  async readPlan(plan: RoutePlan): Promise<{ experts: Int32Array; weights: Float32Array }> {
    const p = plan as GpuRoutePlan;
    const S = p.tokens * p.topK;
    const words = await this.rec.readBuffer(p.buffer, 0, 2 * S * 4);
    return { experts: new Int32Array(words, 0, S), weights: new Float32Array(words, S * 4, S) };
  }

  moeExperts(x: Operand, plan: RoutePlan, experts: ExpertWeights, out: Operand): void {
    recordMoeExperts(this, this.strided(x), plan as GpuRoutePlan,
      this.weight(experts.gate), this.weight(experts.up), this.weight(experts.down), this.strided(out));
  }

  /** Times every dispatch from now on; says how (see Recorder.startProfiling). */
  startProfiling(): 'timestamp-query' | 'replay' { return this.rec.startProfiling(); }
  stopProfiling(): Promise<KernelTiming[]> { return this.rec.stopProfiling(); }

  dispose(): void {
    try { this.rec.flush(); } catch { /* the device may be lost already */ }
    this.resources.destroyScratch();
    this.rec.destroy();
    this.rec.device.destroy();
  }

  strided(op: Operand): Strided {
    const v: View = viewOf(op);
    const act = this.act(v.act);
    return { buffer: act.buffer, offset: v.offset, stride: act.cols, rows: act.rows, cols: v.cols };
  }

  weight(w: Weight): GpuWeight {
    const g = w as GpuWeight;
    if (!g.parts) throw new Error(`${w.name}: not a WebGPU weight`);
    if (g.released) throw new Error(`${w.name}: used after release`);
    return g;
  }

  private act(a: Activation): GpuActivation {
    if (!(a instanceof GpuActivation)) throw new Error('WebGPU backend: an activation of another backend');
    if (a.released) throw new Error(`WebGPU backend: use of a released activation [${a.rows}, ${a.cols}]`);
    return a;
  }

  private cacheBuffer(cache: LatentCache, layer: number): GPUBuffer {
    const c = cache as GpuCache;
    if (c.released) throw new Error('WebGPU backend: use of a released latent cache');
    if (!c.buffers || layer < 0 || layer >= c.layers) throw new RangeError(`latent cache layer ${layer} of ${cache.layers}`);
    return c.buffers[layer];
  }
}

