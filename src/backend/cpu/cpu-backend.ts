// The Wasm SIMD CPU backend: each op is one or a few calls into
// build/edgeseek.wasm (assembly/), over memory this file lays out. It runs
// everywhere, Cloudflare Workers included, so it is the reference backend.
import {
  bytesFor, cacheSlot, checkCacheRows, checkGating, viewOf,
  type AbsorbedAttentionWeights, type Activation, type Backend, type CacheRows, type DType, type ExpertWeights,
  type GatingParams, type LatentCache, type MlaShape, type Operand, type Placement, type RoutePlan,
  type View, type Weight, type WeightData,
} from '../backend.ts';
import { dequantizeKernel, ROUTE_METHOD, ROUTE_SCORING, routeScratchBytes, type KernelExports } from './kernel-exports.ts';
import { DTYPES } from '../../model/weight-types.ts';
import type { CpuContext } from './cpu-context.ts';
import type { CpuCache, CpuCacheLayer, CpuRoutePlan, CpuWeight } from './cpu-types.ts';
import { MatmulDispatch } from './matmul-dispatch.ts';
import { checkActivationMode, type ActivationMode } from './integer-kernels.ts';
import { failedOps, relaxedOpsOf, type KernelBuild } from './kernel-build.ts';
import { WeightPlacement } from './weight-placement.ts';
import { absorbedAttention } from './mla-attention.ts';
import { routedExperts } from './moe-experts.ts';
import { CpuActivation, Scratch, ShardSet } from './shards.ts';
import { instantiateKernels, instantiateKernelsSync, instantiateSharedKernels, type WasmInstance } from './wasm-instance.ts';
import type { ThreadPool } from './threads/pool.ts';

export interface CpuBackendOptions {
  /**
   * Threads for matmuls and per-head attention (Node and Deno; default 1). Above 1
   * this needs `threadsModule`, the shared-memory build of the same kernels
   * (build/edgeseek{,-relaxed}-threads.wasm; kernel-build.ts picks the pair).
   */
  threads?: number;
  threadsModule?: WebAssembly.Module;
  /** Smallest matmul (in multiply-adds) worth splitting across threads (default 65,536; tests use 0). */
  parallelMinMacs?: number;
  /** Weight bytes per Wasm memory before a new one is opened (default 3 GiB of the 4 GiB wasm32 limit). */
  shardWeightBytes?: number;
  /**
   * Activations of matmuls whose weight type has an integer kernel
   * (integer-kernels.ts: Q8_0, Q4_0). Unset: 'int16' for those types — each
   * token's activations quantized per 32-element block to 15 bits for integer
   * dot products, within README's agreement bounds on the default model.
   * 'f32' keeps every matmul exact (f32 activations).
   */
  activations?: ActivationMode;
}

export async function createCpuBackend(module: WebAssembly.Module, options: CpuBackendOptions = {}): Promise<CpuBackend> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`CPU backend: threads must be a positive integer, got ${threads}`);
  if (threads === 1) return new CpuBackend(module, await instantiateKernels(module), options);
  if (!options.threadsModule) throw new Error('CPU backend: threads > 1 needs threadsModule (build/edgeseek-threads.wasm)');
  const { ThreadPool } = await import('./threads/pool.ts');
  const first = instantiateSharedKernels(options.threadsModule);
  const names = WebAssembly.Module.exports(options.threadsModule).filter((e) => e.kind === 'function').map((e) => e.name);
  const pool = new ThreadPool(threads, names);
  await pool.started();
  return new CpuBackend(options.threadsModule, first, options, pool);
}

export class CpuBackend implements Backend, CpuContext {
  readonly name = 'cpu' as const;
  /** The kernel build: relaxed-SIMD or plain-SIMD module (kernel-build.ts). */
  readonly kernelBuild: KernelBuild;
  /** Relaxed ops whose self-test passed in this build (RELAXED_OPS bits; 0 in the plain build). */
  readonly relaxedOps: number;
  readonly weightDTypes: readonly DType[] = DTYPES;
  readonly instances: WasmInstance[];
  readonly shards: ShardSet;
  readonly scratch: Scratch;
  readonly dispatch: MatmulDispatch;
  private readonly placement: WeightPlacement;
  /** Internal activations of ops that span memories, by (purpose, rows). */
  private readonly internal = new Map<string, CpuActivation>();

  constructor(
    private readonly module: WebAssembly.Module, first: WasmInstance, options: CpuBackendOptions,
    private readonly pool?: ThreadPool,
  ) {
    this.instances = [first];
    pool?.addShard(0, module, first.memory);
    this.shards = new ShardSet(this.instances);
    this.scratch = new Scratch(this.instances);
    this.placement = new WeightPlacement(options.shardWeightBytes);
    this.relaxedOps = relaxedOpsOf(first.exports);
    this.kernelBuild = first.exports.simd_relaxed() === 1 ? 'relaxed' : 'plain';
    const missing = this.kernelBuild === 'relaxed' ? failedOps(this.relaxedOps) : [];
    if (missing.length) throw new Error(`CPU backend: the relaxed-SIMD build fails its self-test for ${missing.join(', ')} here; use the plain build`);
    this.dispatch = new MatmulDispatch(
      this.instances, this.scratch, pool, checkActivationMode(options.activations), this.relaxedOps, options.parallelMinMacs,
    );
  }

  matmulActivations(dtype: DType): ActivationMode {
    return this.dispatch.modeFor(dtype);
  }

  get threads(): number { return this.pool?.threads ?? 1; }

  /** Bytes allocated across all Wasm memories (weights, caches, activations, scratch). */
  get allocatedBytes(): number { return this.instances.reduce((a, i) => a + i.heap.allocatedBytes, 0); }

  /** Number of Wasm memories in use. */
  get shardCount(): number { return this.instances.length; }

  uploadWeight(data: WeightData, placement: Placement): Weight {
    const weight = this.allocateWeight(data, placement);
    if (data.bytes.byteLength !== weight.byteLength) {
      this.release(weight);
      throw new Error(`${data.name}: ${data.bytes.byteLength} bytes for ${data.dtype} [${data.shape.join(', ')}], expected ${weight.byteLength}`);
    }
    this.instances[weight.shard].u8().set(data.bytes, weight.ptr);
    return weight;
  }

  async uploadWeightFrom(meta: Omit<WeightData, 'bytes'>, placement: Placement, fill: (dst: Uint8Array) => Promise<void>): Promise<Weight> {
    const weight = this.allocateWeight(meta, placement);
    try {
      // Loads are sequential, so nothing grows this memory (detaching the view) while fill runs.
      await fill(this.instances[weight.shard].u8().subarray(weight.ptr, weight.ptr + weight.byteLength));
    } catch (error) {
      this.release(weight);
      throw error;
    }
    return weight;
  }

  private allocateWeight(meta: Omit<WeightData, 'bytes'>, placement: Placement): CpuWeight {
    const bytes = bytesFor(meta.dtype, meta.shape);
    const shard = this.placement.place(meta.name, placement.layer, bytes);
    while (shard >= this.instances.length) {
      const instance = this.pool ? instantiateSharedKernels(this.module) : instantiateKernelsSync(this.module);
      this.pool?.addShard(this.instances.length, this.module, instance.memory);
      this.instances.push(instance);
    }
    const ptr = this.instances[shard].heap.alloc(bytes);
    return { name: meta.name, dtype: meta.dtype, shape: [...meta.shape], byteLength: bytes, shard, ptr, released: false };
  }

  createActivation(rows: number, cols: number): Activation {
    return new CpuActivation(rows, cols);
  }

  createLatentCache(layers: number, blockSize: number, width: number): LatentCache {
    if (!(Number.isInteger(blockSize) && blockSize >= 1)) throw new RangeError(`latent cache: block size must be a positive integer, got ${blockSize}`);
    const perLayer = Array.from({ length: layers }, (_, l): CpuCacheLayer => ({ shard: this.placement.layerShard(l), blockPtrs: [], slabs: [] }));
    const cache: CpuCache = { layers, blockSize, width, blocks: 0, maxBlocks: Infinity, byteLength: 0, perLayer, released: false };
    return cache;
  }

  growLatentCache(latent: LatentCache, blocks: number): void {
    const cache = latent as CpuCache;
    if (cache.released) throw new Error('CPU backend: growing a released latent cache');
    const added = blocks - cache.blocks;
    if (added <= 0) return;
    // One slab per layer for the new blocks, in the layer's memory; earlier blocks stay where they are.
    const blockBytes = cache.blockSize * cache.width * 4;
    const done: { layer: CpuCacheLayer; ptr: number }[] = [];
    try {
      for (const layer of cache.perLayer) done.push({ layer, ptr: this.instances[layer.shard].heap.alloc(added * blockBytes) });
    } catch (error) {
      for (const { layer, ptr } of done) this.instances[layer.shard].heap.release(ptr);
      throw error;
    }
    for (const { layer, ptr } of done) {
      layer.slabs.push(ptr);
      for (let b = 0; b < added; b++) layer.blockPtrs.push(ptr + b * blockBytes);
    }
    cache.blocks = blocks;
    cache.byteLength = cache.layers * blocks * blockBytes;
  }

  release(resource: Activation | Weight | LatentCache): void {
    if (resource instanceof CpuActivation) { if (!resource.released) this.shards.release(resource); return; }
    if ('perLayer' in resource) {
      const cache = resource as CpuCache;
      if (cache.released) return;
      cache.released = true;
      for (const layer of cache.perLayer) for (const ptr of layer.slabs) this.instances[layer.shard].heap.release(ptr);
      return;
    }
    const weight = resource as CpuWeight;
    if (weight.released) return;
    weight.released = true;
    this.instances[weight.shard].heap.release(weight.ptr);
    this.placement.released(weight.shard, weight.byteLength);
  }

  write(dst: Operand, data: Float32Array): void {
    const v = viewOf(dst);
    const act = v.act as CpuActivation;
    const rows = data.length / v.cols;
    if (!Number.isInteger(rows) || rows > act.rows) throw new RangeError(`write of ${data.length} values into ${act.rows}×${v.cols}`);
    const shard = this.shards.home(act);
    const ptr = this.shards.locate(act, shard, v.cols === act.cols ? 'write' : 'readwrite');
    const f32 = this.instances[shard].f32();
    for (let r = 0; r < rows; r++) f32.set(data.subarray(r * v.cols, (r + 1) * v.cols), ptr / 4 + r * act.cols + v.offset);
  }

  async read(src: Operand, row0 = 0, rows?: number): Promise<Float32Array> {
    const v = viewOf(src);
    const act = v.act as CpuActivation;
    const count = rows ?? act.rows - row0;
    const shard = this.shards.home(act);
    const ptr = this.shards.locate(act, shard, 'read');
    const f32 = this.instances[shard].f32();
    const out = new Float32Array(count * v.cols);
    for (let r = 0; r < count; r++) {
      const at = ptr / 4 + (row0 + r) * act.cols + v.offset;
      out.set(f32.subarray(at, at + v.cols), r * v.cols);
    }
    return out;
  }

  flush(): void {}

  gatherRows(src: Operand, rows: Int32Array, dst: Operand): void {
    const sAct = viewOf(src).act as CpuActivation;
    if (rows.length > viewOf(dst).act.rows) throw new RangeError(`gatherRows of ${rows.length} rows into ${viewOf(dst).act.rows}`);
    for (const r of rows) if (!(r >= 0 && r < sAct.rows)) throw new RangeError(`gatherRows: row ${r} of ${sAct.rows}`);
    const shard = this.shards.home(sAct);
    const sv = this.at(src, shard, 'read');
    const dv = this.at(dst, shard, 'readwrite');
    const k = this.kernels(shard);
    rows.forEach((r, i) => k.copy_rows(sv.ptr + r * sv.stride * 4, sv.stride, dv.ptr + i * dv.stride * 4, dv.stride, 1, viewOf(src).cols));
  }

  embed(ids: Int32Array, table: Weight, out: Operand): void {
    const w = table as CpuWeight;
    const [vocab, H] = w.shape;
    const o = this.at(out, w.shard, 'readwrite');
    const k = this.kernels(w.shard);
    const rowBytes = bytesFor(w.dtype, [H]);
    const decode = dequantizeKernel(k, w.dtype);
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t];
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new RangeError(`token id ${id} is outside the vocabulary (${vocab})`);
      const src = w.ptr + id * rowBytes;
      const dst = o.ptr + t * o.stride * 4;
      if (decode) decode(src, dst, H);
      else k.copy_rows(src, H, dst, H, 1, H);
    }
  }

  matmul(x: Operand, weight: Weight, out: Operand, rows?: number): void {
    const w = weight as CpuWeight;
    const [N, K] = w.shape.slice(-2);
    const T = rows ?? viewOf(x).act.rows;
    const xv = this.at(x, w.shard, 'read');
    const ov = this.at(out, w.shard, 'readwrite');
    this.dispatch.matmul(w.shard, w.dtype, w.ptr, xv.ptr, xv.stride, ov.ptr, ov.stride, N, K, T);
  }

  rmsnorm(x: Operand, weight: Weight, eps: number, out: Operand): void {
    const w = weight as CpuWeight;
    const xv = this.at(x, w.shard, 'read');
    const ov = this.at(out, w.shard, 'readwrite');
    this.kernels(w.shard).rmsnorm(xv.ptr, xv.stride, w.ptr, ov.ptr, ov.stride, viewOf(x).act.rows, viewOf(x).cols, eps);
  }

  rope(x: Operand, cosSin: Float32Array, heads: number, headStride: number, dim: number): void {
    const shard = this.shards.home(viewOf(x).act as CpuActivation);
    const xv = this.at(x, shard, 'readwrite');
    const rows = cosSin.length / dim;
    const table = this.scratch.get(shard, 0, cosSin.byteLength);
    this.instances[shard].f32().set(cosSin, table / 4);
    this.kernels(shard).rope(xv.ptr, xv.stride, rows, table, heads, headStride, dim);
  }

  add(x: Operand, y: Operand): void {
    const shard = this.shards.home(viewOf(x).act as CpuActivation);
    const yv = this.at(y, shard, 'read');
    const xv = this.at(x, shard, 'readwrite');
    this.kernels(shard).add(xv.ptr, xv.stride, yv.ptr, yv.stride, viewOf(x).act.rows, viewOf(x).cols);
  }

  swiglu(gate: Operand, up: Operand, out: Operand): void {
    const shard = this.shards.home(viewOf(gate).act as CpuActivation);
    const g = this.at(gate, shard, 'read');
    const u = this.at(up, shard, 'read');
    const o = this.at(out, shard, 'readwrite');
    this.kernels(shard).swiglu(g.ptr, g.stride, u.ptr, u.stride, o.ptr, o.stride, viewOf(gate).act.rows, viewOf(gate).cols);
  }

  cacheWrite(cache: LatentCache, layer: number, rows: CacheRows, c: Operand, kpe: Operand): void {
    const { shard, blockPtrs } = this.cacheLayer(cache, layer);
    const T = viewOf(c).act.rows;
    checkCacheRows(cache, rows, T);
    const cv = this.at(c, shard, 'read');
    const kv = this.at(kpe, shard, 'read');
    const k = this.kernels(shard);
    const kvr = viewOf(c).cols;
    const bs = cache.blockSize;
    // Runs of rows that land on consecutive slots of one block (a prefill chunk) are one copy.
    for (let t = 0; t < T;) {
      const slot = cacheSlot(rows, t, bs);
      let n = 1;
      while (t + n < T && (slot % bs) + n < bs && cacheSlot(rows, t + n, bs) === slot + n) n++;
      const dst = blockPtrs[Math.floor(slot / bs)] + (slot % bs) * cache.width * 4;
      k.copy_rows(cv.ptr + t * cv.stride * 4, cv.stride, dst, cache.width, n, kvr);
      k.copy_rows(kv.ptr + t * kv.stride * 4, kv.stride, dst + kvr * 4, cache.width, n, viewOf(kpe).cols);
      t += n;
    }
  }

  mlaAttention(
    q: Operand, cache: LatentCache, layer: number, rows: CacheRows,
    weights: AbsorbedAttentionWeights, shape: MlaShape, out: Operand,
  ): void {
    checkCacheRows(cache, rows, viewOf(q).act.rows);
    absorbedAttention(this, q, cache, layer, rows, weights, shape, out);
  }

  route(routerLogits: Operand, params: GatingParams): RoutePlan {
    const bias = checkGating(params) as CpuWeight | undefined;
    // Route where the bias lives (with the layer's router); the logits follow it.
    const shard = bias ? bias.shard : this.shards.home(viewOf(routerLogits).act as CpuActivation);
    const lv = this.at(routerLogits, shard, 'read');
    const T = viewOf(routerLogits).act.rows;
    const { experts: E, topK } = params;
    const idx = this.scratch.get(shard, 0, T * topK * 4);
    const wts = this.scratch.get(shard, 1, T * topK * 4);
    const scratch = this.scratch.get(shard, 2, routeScratchBytes(E, params.groups));
    this.kernels(shard).moe_route(
      lv.ptr, lv.stride, T, E, topK, ROUTE_SCORING[params.scoring], ROUTE_METHOD[params.method], params.groups,
      params.topKGroups, params.normTopKProb ? 1 : 0, params.routedScalingFactor, bias ? bias.ptr : 0, idx, wts, scratch,
    );
    const inst = this.instances[shard];
    const plan: CpuRoutePlan = {
      tokens: T, topK,
      experts: inst.i32().slice(idx / 4, idx / 4 + T * topK),
      weights: inst.f32().slice(wts / 4, wts / 4 + T * topK),
    };
    return plan;
  }

  /** The plan's selection as plain arrays (tests compare backends with it). */
  async readPlan(plan: RoutePlan): Promise<{ experts: Int32Array; weights: Float32Array }> {
    const p = plan as CpuRoutePlan;
    return { experts: p.experts, weights: p.weights };
  }

  moeExperts(x: Operand, plan: RoutePlan, experts: ExpertWeights, out: Operand): void {
    routedExperts(this, x, plan, experts, out);
  }

  dispose(): void {
    this.pool?.dispose();
    this.instances.length = 0;
  }

  kernels(shard: number): KernelExports {
    return this.instances[shard].exports;
  }

  at(op: Operand, shard: number, access: 'read' | 'readwrite'): { ptr: number; stride: number } {
    const v: View = viewOf(op);
    const act = v.act as CpuActivation;
    return { ptr: this.shards.locate(act, shard, access) + v.offset * 4, stride: act.cols };
  }

  cacheLayer(cache: LatentCache, layer: number): CpuCacheLayer {
    const c = cache as CpuCache;
    if (c.released) throw new Error('CPU backend: use of a released latent cache');
    if (!c.perLayer || layer < 0 || layer >= c.layers) throw new RangeError(`latent cache layer ${layer} of ${cache.layers}`);
    return c.perLayer[layer];
  }

  /** Scratch activations for ops that may cross memories, kept per (purpose, rows) and reused. */
  internalActivation(purpose: string, rows: number, cols: number): CpuActivation {
    const key = `${purpose}:${rows}x${cols}`;
    let act = this.internal.get(key);
    if (!act) { act = new CpuActivation(rows, cols); this.internal.set(key, act); }
    return act;
  }
}
