// The Wasm SIMD CPU backend: each op is one or a few calls into
// build/edgeseek.wasm (assembly/), over memory this file lays out. It runs
// everywhere, Cloudflare Workers included, so it is the reference backend.
import {
  bytesFor, viewOf,
  type AbsorbedAttentionWeights, type Activation, type Backend, type DType, type ExpertWeights,
  type GatingParams, type LatentCache, type MlaShape, type Operand, type Placement, type RoutePlan,
  type View, type Weight, type WeightData,
} from '../backend.ts';
import { ACT_I16_BLOCK_BYTES, type KernelExports } from './kernel-exports.ts';
import { CpuActivation, Scratch, ShardSet } from './shards.ts';
import { instantiateKernels, instantiateKernelsSync, instantiateSharedKernels, type WasmInstance } from './wasm-instance.ts';
import type { KernelCall, ThreadPool } from './threads/pool.ts';

export interface CpuBackendOptions {
  /**
   * Threads for matmuls and per-head attention (Node only; default 1). Above 1
   * this needs `threadsModule`, the shared-memory build build/edgeseek-threads.wasm.
   */
  threads?: number;
  threadsModule?: WebAssembly.Module;
  /** Smallest matmul (in multiply-adds) worth splitting across threads (default 65,536; tests use 0). */
  parallelMinMacs?: number;
  /** Weight bytes per Wasm memory before a new one is opened (default 3 GiB of the 4 GiB wasm32 limit). */
  shardWeightBytes?: number;
  /**
   * Activations of Q8_0/Q4_0 matmuls (default 'f32', exact). 'int16' quantizes
   * each token's activations per 32-element block (one f32 scale per block) so
   * the block dot products run as integer i32x4.dot_i16x8_s: faster, at a
   * relative error of about 1.5e-5 per matmul (test/kernels/matmul-i16.test.ts).
   */
  activations?: 'f32' | 'int16';
}

interface CpuWeight extends Weight {
  readonly shard: number;
  readonly ptr: number;
  released: boolean;
}

interface CpuCache extends LatentCache {
  readonly perLayer: { shard: number; ptr: number }[];
  released: boolean;
}

export interface CpuRoutePlan extends RoutePlan {
  /** Selected experts per token, [tokens, topK]. */
  readonly experts: Int32Array;
  /** Their gate weights, [tokens, topK]. */
  readonly weights: Float32Array;
}

const DEFAULT_SHARD_WEIGHT_BYTES = 3 * 1024 ** 3;
/** Leaves room for caches, activations and scratch in a 4 GiB memory. */
const MAX_SHARD_BYTES = 3.75 * 1024 ** 3;

/** Scratch slot of the int16-quantized activations of one matmul (or one per-head batch of them). */
const XQ_SLOT = 8;

/** Below this many multiply-adds a matmul runs on one thread: waking workers costs more. */
const DEFAULT_PARALLEL_MIN_MACS = 1 << 16;

export async function createCpuBackend(module: WebAssembly.Module, options: CpuBackendOptions = {}): Promise<CpuBackend> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`CPU backend: threads must be a positive integer, got ${threads}`);
  if (threads === 1) return new CpuBackend(module, await instantiateKernels(module), options);
  if (!options.threadsModule) throw new Error('CPU backend: threads > 1 needs threadsModule (build/edgeseek-threads.wasm)');
  const { ThreadPool } = await import('./threads/pool.ts');
  const first = instantiateSharedKernels(options.threadsModule);
  const names = WebAssembly.Module.exports(options.threadsModule).filter((e) => e.kind === 'function').map((e) => e.name);
  const pool = new ThreadPool(threads, names);
  return new CpuBackend(options.threadsModule, first, options, pool);
}

export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly weightDTypes: readonly DType[] = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'];
  private readonly instances: WasmInstance[];
  private readonly shards: ShardSet;
  private readonly scratch: Scratch;
  private readonly shardWeightBytes: number;
  private readonly parallelMinMacs: number;
  private readonly activations: 'f32' | 'int16';
  private readonly shardLoad: number[] = [0];
  private readonly layerShard = new Map<number, number>();
  private current = 0;
  private lastLayer = Number.NaN;
  private currentLayerBytes = 0;
  private largestLayer = 0;
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
    this.shardWeightBytes = options.shardWeightBytes ?? DEFAULT_SHARD_WEIGHT_BYTES;
    this.parallelMinMacs = options.parallelMinMacs ?? DEFAULT_PARALLEL_MIN_MACS;
    this.activations = options.activations ?? 'f32';
    if (this.activations !== 'f32' && this.activations !== 'int16') {
      throw new Error(`CPU backend: activations must be 'f32' or 'int16', got '${String(this.activations)}'`);
    }
  }

  /** Bytes allocated across all Wasm memories (weights, caches, activations, scratch). */
  get allocatedBytes(): number { return this.instances.reduce((a, i) => a + i.heap.allocatedBytes, 0); }

  /** Number of Wasm memories in use. */
  get shardCount(): number { return this.instances.length; }

  uploadWeight(data: WeightData, placement: Placement): Weight {
    const expected = bytesFor(data.dtype, data.shape);
    if (data.bytes.byteLength !== expected) {
      throw new Error(`${data.name}: ${data.bytes.byteLength} bytes for ${data.dtype} [${data.shape.join(', ')}], expected ${expected}`);
    }
    // A new layer starts a new memory when the largest layer so far would not fit.
    if (placement.layer !== this.lastLayer) {
      this.largestLayer = Math.max(this.largestLayer, this.currentLayerBytes);
      this.currentLayerBytes = 0;
      this.lastLayer = placement.layer;
      if (this.shardLoad[this.current] > 0 && this.shardLoad[this.current] + this.largestLayer > this.shardWeightBytes) this.current++;
    }
    if (this.shardLoad[this.current] > 0 && this.shardLoad[this.current] + expected > this.shardWeightBytes) this.current++;
    const shard = this.current;
    if (expected > this.shardWeightBytes && expected > MAX_SHARD_BYTES) {
      throw new Error(`${data.name}: ${expected} bytes do not fit one Wasm memory (4 GiB)`);
    }
    while (shard >= this.instances.length) {
      const instance = this.pool ? instantiateSharedKernels(this.module) : instantiateKernelsSync(this.module);
      this.pool?.addShard(this.instances.length, this.module, instance.memory);
      this.instances.push(instance);
      this.shardLoad.push(0);
    }
    this.currentLayerBytes += expected;
    const instance = this.instances[shard];
    const ptr = instance.heap.alloc(expected);
    instance.u8().set(data.bytes, ptr);
    this.shardLoad[shard] += expected;
    if (!this.layerShard.has(placement.layer)) this.layerShard.set(placement.layer, shard);
    return { name: data.name, dtype: data.dtype, shape: [...data.shape], byteLength: expected, shard, ptr, released: false } as CpuWeight;
  }

  createActivation(rows: number, cols: number): Activation {
    return new CpuActivation(rows, cols);
  }

  createLatentCache(layers: number, capacity: number, width: number): LatentCache {
    const perLayer: { shard: number; ptr: number }[] = [];
    try {
      for (let l = 0; l < layers; l++) {
        const shard = this.layerShard.get(l) ?? 0;
        perLayer.push({ shard, ptr: this.instances[shard].heap.alloc(capacity * width * 4) });
      }
    } catch (error) {
      for (const { shard, ptr } of perLayer) this.instances[shard].heap.release(ptr);
      throw error;
    }
    return { layers, capacity, width, byteLength: layers * capacity * width * 4, perLayer, released: false } as CpuCache;
  }

  release(resource: Activation | Weight | LatentCache): void {
    if (resource instanceof CpuActivation) { if (!resource.released) this.shards.release(resource); return; }
    if ('perLayer' in resource) {
      const cache = resource as CpuCache;
      if (cache.released) return;
      cache.released = true;
      for (const { shard, ptr } of cache.perLayer) this.instances[shard].heap.release(ptr);
      return;
    }
    const weight = resource as CpuWeight;
    if (weight.released) return;
    weight.released = true;
    this.instances[weight.shard].heap.release(weight.ptr);
    this.shardLoad[weight.shard] -= weight.byteLength;
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

  copyRows(src: Operand, row0: number, rows: number, dst: Operand): void {
    const sAct = viewOf(src).act as CpuActivation;
    if (row0 < 0 || row0 + rows > sAct.rows) throw new RangeError(`copyRows of rows [${row0}, ${row0 + rows}) from ${sAct.rows}`);
    const shard = this.shards.home(sAct);
    const sv = this.at(src, shard, 'read');
    const dv = this.at(dst, shard, 'readwrite');
    this.kernels(shard).copy_rows(sv.ptr + row0 * sv.stride * 4, sv.stride, dv.ptr, dv.stride, rows, viewOf(src).cols);
  }

  embed(ids: Int32Array, table: Weight, out: Operand): void {
    const w = table as CpuWeight;
    const [vocab, H] = w.shape;
    const o = this.at(out, w.shard, 'readwrite');
    const k = this.kernels(w.shard);
    const rowBytes = bytesFor(w.dtype, [H]);
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t];
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new RangeError(`token id ${id} is outside the vocabulary (${vocab})`);
      const src = w.ptr + id * rowBytes;
      const dst = o.ptr + t * o.stride * 4;
      if (w.dtype === 'f32') k.copy_rows(src, H, dst, H, 1, H);
      else k[`dequantize_${w.dtype}`](src, dst, H);
    }
  }

  matmul(x: Operand, weight: Weight, out: Operand, rows?: number): void {
    const w = weight as CpuWeight;
    const [N, K] = w.shape.slice(-2);
    const T = rows ?? viewOf(x).act.rows;
    const xv = this.at(x, w.shard, 'read');
    const ov = this.at(out, w.shard, 'readwrite');
    this.runMatmul(w.shard, w.dtype, w.ptr, xv.ptr, xv.stride, ov.ptr, ov.stride, N, K, T);
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

  cacheWrite(cache: LatentCache, layer: number, pos0: number, c: Operand, kpe: Operand): void {
    const { shard, ptr } = this.cacheLayer(cache, layer);
    const rows = viewOf(c).act.rows;
    if (pos0 + rows > cache.capacity) throw new RangeError(`latent cache holds ${cache.capacity} positions; write of ${rows} at ${pos0}`);
    const cv = this.at(c, shard, 'read');
    const kv = this.at(kpe, shard, 'read');
    const k = this.kernels(shard);
    const base = ptr + pos0 * cache.width * 4;
    const kvr = viewOf(c).cols;
    k.copy_rows(cv.ptr, cv.stride, base, cache.width, rows, kvr);
    k.copy_rows(kv.ptr, kv.stride, base + kvr * 4, cache.width, rows, viewOf(kpe).cols);
  }

  mlaAttention(
    q: Operand, cache: LatentCache, layer: number, pos0: number,
    weights: AbsorbedAttentionWeights, shape: MlaShape, out: Operand,
  ): void {
    const { shard, ptr: cachePtr } = this.cacheLayer(cache, layer);
    const { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr } = shape;
    const T = viewOf(q).act.rows;
    if (pos0 + T > cache.capacity) throw new RangeError(`attention past the latent cache (${pos0 + T} > ${cache.capacity})`);
    const wkb = weights.wkb as CpuWeight;
    const wvb = weights.wvb as CpuWeight;
    const qlat = this.internalActivation('qlat', T, heads * kvr);
    const olat = this.internalActivation('olat', T, heads * kvr);
    const qHead = nope + rope;
    // q_lat[t, h] = W_UKᵀ[h] · q_nope[t, h]: one [kvr, nope] matrix per head.
    {
      const qv = this.at(q, wkb.shard, 'read');
      const qlatPtr = this.shards.locate(qlat, wkb.shard, 'write');
      const headBytes = bytesFor(wkb.dtype, [kvr, nope]);
      const xq = this.quantizeHeads(wkb.shard, wkb.dtype, qv.ptr, qv.stride, qHead, heads, nope, T);
      this.runCalls(wkb.shard, Array.from({ length: heads }, (_, h) => (xq ? {
        kernel: `matmul_${wkb.dtype}_i16`,
        args: [wkb.ptr + h * headBytes, xq.ptr + h * xq.headBytes, qlatPtr + h * kvr * 4, heads * kvr, kvr, nope, T],
      } : {
        kernel: `matmul_${wkb.dtype}`,
        args: [wkb.ptr + h * headBytes, qv.ptr + h * qHead * 4, qv.stride, qlatPtr + h * kvr * 4, heads * kvr, kvr, nope, T],
      })), kvr * nope * T * heads);
    }
    // Scores against c and k_pe, softmax, o_lat = Σ p·c — the cache stays latent.
    {
      const qv = this.at(q, shard, 'read');
      const qlatPtr = this.shards.locate(qlat, shard, 'read');
      const olatPtr = this.shards.locate(olat, shard, 'write');
      const scores = this.scratch.get(shard, 0, heads * (pos0 + T) * 4);
      this.kernels(shard).mla_attend(
        qlatPtr, qv.ptr + nope * 4, qv.stride, qHead, cachePtr, cache.width, kvr, rope,
        heads, T, pos0, shape.softmaxScale, olatPtr, scores,
      );
    }
    // out[t, h] = W_UV[h] · o_lat[t, h]
    {
      const olatPtr = this.shards.locate(olat, wvb.shard, 'read');
      const ov = this.at(out, wvb.shard, 'readwrite');
      const headBytes = bytesFor(wvb.dtype, [v, kvr]);
      const xq = this.quantizeHeads(wvb.shard, wvb.dtype, olatPtr, heads * kvr, kvr, heads, kvr, T);
      this.runCalls(wvb.shard, Array.from({ length: heads }, (_, h) => (xq ? {
        kernel: `matmul_${wvb.dtype}_i16`,
        args: [wvb.ptr + h * headBytes, xq.ptr + h * xq.headBytes, ov.ptr + h * v * 4, ov.stride, v, kvr, T],
      } : {
        kernel: `matmul_${wvb.dtype}`,
        args: [wvb.ptr + h * headBytes, olatPtr + h * kvr * 4, heads * kvr, ov.ptr + h * v * 4, ov.stride, v, kvr, T],
      })), v * kvr * T * heads);
    }
  }

  route(routerLogits: Operand, params: GatingParams): RoutePlan {
    const shard = this.shards.home(viewOf(routerLogits).act as CpuActivation);
    const lv = this.at(routerLogits, shard, 'read');
    const T = viewOf(routerLogits).act.rows;
    const { experts: E, topK } = params;
    const idx = this.scratch.get(shard, 0, T * topK * 4);
    const wts = this.scratch.get(shard, 1, T * topK * 4);
    const scratch = this.scratch.get(shard, 2, 8 * E + 8 * params.groups);
    this.kernels(shard).moe_route(
      lv.ptr, lv.stride, T, E, topK, params.method === 'greedy' ? 0 : 1, params.groups, params.topKGroups,
      params.normTopKProb ? 1 : 0, params.routedScalingFactor, idx, wts, scratch,
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
    const p = plan as CpuRoutePlan;
    const gate = experts.gate as CpuWeight;
    const up = experts.up as CpuWeight;
    const down = experts.down as CpuWeight;
    const [E, I, H] = gate.shape;
    // Group the (token, slot) pairs by expert (moe_group, in Wasm) so each
    // expert's weights are read once per batch.
    const home = this.shards.home(viewOf(x).act as CpuActivation);
    const slots = p.tokens * p.topK;
    const idx = this.scratch.get(home, 5, slots * 4);
    const counts = this.scratch.get(home, 6, E * 4);
    const order = this.scratch.get(home, 7, (slots + E) * 4);
    this.instances[home].i32().set(p.experts, idx / 4);
    this.kernels(home).moe_group(idx, p.tokens, p.topK, E, counts, order);
    // Each expert sees at most one row per token. Every step runs in the memory
    // of its weight; in a single-memory model nothing is ever copied.
    const xs = this.internalActivation('moe.x', p.tokens, H);
    const g = this.internalActivation('moe.g', p.tokens, I);
    const u = this.internalActivation('moe.u', p.tokens, I);
    const d = this.internalActivation('moe.d', p.tokens, H);
    const rows = this.scratch.get(home, 3, p.tokens * 4);
    const weights = this.scratch.get(home, 4, p.tokens * 4);
    let first = 0;
    for (let e = 0; e < E; e++) {
      const i32 = this.instances[home].i32();
      const n = i32[counts / 4 + e];
      if (n === 0) continue;
      const f32 = this.instances[home].f32();
      for (let i = 0; i < n; i++) {
        const slot = i32[order / 4 + first + i];
        i32[rows / 4 + i] = (slot / p.topK) | 0;
        f32[weights / 4 + i] = p.weights[slot];
      }
      first += n;
      const xv = this.at(x, home, 'read');
      this.kernels(home).gather_rows(xv.ptr, xv.stride, rows, n, H, this.shards.locate(xs, home, 'write'));
      this.expertMatmul(gate, e, xs, g, n);
      this.expertMatmul(up, e, xs, u, n);
      const gs = this.shards.home(g);
      this.kernels(gs).swiglu(
        this.shards.locate(g, gs, 'readwrite'), I, this.shards.locate(u, gs, 'read'), I, this.shards.locate(g, gs, 'readwrite'), I, n, I,
      );
      this.expertMatmul(down, e, g, d, n);
      const ov = this.at(out, home, 'readwrite');
      this.kernels(home).scatter_add_rows(this.shards.locate(d, home, 'read'), H, rows, weights, n, ov.ptr, ov.stride);
    }
  }

  /** out[0..n) = W[e] · x[0..n) for one expert of a stacked [E, N, K] weight, in the weight's memory. */
  private expertMatmul(w: CpuWeight, e: number, x: CpuActivation, out: CpuActivation, n: number): void {
    const [, N, K] = w.shape;
    const xPtr = this.shards.locate(x, w.shard, 'read');
    const outPtr = this.shards.locate(out, w.shard, 'write');
    this.runMatmul(w.shard, w.dtype, w.ptr + e * bytesFor(w.dtype, [N, K]), xPtr, K, outPtr, N, N, K, n);
  }

  dispose(): void {
    this.pool?.dispose();
    this.instances.length = 0;
  }

  private kernels(shard: number): KernelExports {
    return this.instances[shard].exports;
  }

  /** A matmul, split into row ranges across threads when there is a pool and enough work. */
  private runMatmul(
    shard: number, dtype: DType, w: number, x: number, xStride: number, out: number, outStride: number, N: number, K: number, T: number,
  ): void {
    // Int16 activations are quantized once, here on the calling thread; row ranges then share them.
    const xq = this.quantizeHeads(shard, dtype, x, xStride, 0, 1, K, T);
    const threads = this.pool?.threads ?? 1;
    if (threads === 1 || N * K * T < this.parallelMinMacs || N < threads) {
      const k = this.kernels(shard);
      if (xq) k[`matmul_${dtype as 'q8_0' | 'q4_0'}_i16`](w, xq.ptr, out, outStride, N, K, T);
      else k[`matmul_${dtype}`](w, x, xStride, out, outStride, N, K, T);
      return;
    }
    const rowBytes = bytesFor(dtype, [1, K]);
    const per = Math.ceil(N / threads);
    const calls: KernelCall[] = [];
    for (let n0 = 0; n0 < N; n0 += per) {
      const rows = Math.min(per, N - n0);
      calls.push(xq
        ? { kernel: `matmul_${dtype}_i16`, args: [w + n0 * rowBytes, xq.ptr, out + n0 * 4, outStride, rows, K, T] }
        : { kernel: `matmul_${dtype}`, args: [w + n0 * rowBytes, x, xStride, out + n0 * 4, outStride, rows, K, T] });
    }
    this.runCalls(shard, calls, N * K * T);
  }

  /**
   * With int16 activations and a Q8_0/Q4_0 weight: x[T, K] of each of `heads`
   * heads (head h at x + h·headStride·4, rows xStride apart) quantized by
   * quantize_act_i16 into this shard's XQ_SLOT scratch, head h at ptr + h·headBytes.
   * Otherwise undefined: the f32 kernels read x as it is.
   */
  private quantizeHeads(
    shard: number, dtype: DType, x: number, xStride: number, headStride: number, heads: number, K: number, T: number,
  ): { ptr: number; headBytes: number } | undefined {
    if (this.activations !== 'int16' || (dtype !== 'q8_0' && dtype !== 'q4_0')) return undefined;
    const headBytes = T * (K / 32) * ACT_I16_BLOCK_BYTES;
    const ptr = this.scratch.get(shard, XQ_SLOT, heads * headBytes);
    const k = this.kernels(shard);
    for (let h = 0; h < heads; h++) k.quantize_act_i16(x + h * headStride * 4, xStride, T, K, ptr + h * headBytes);
    return { ptr, headBytes };
  }

  /** Runs independent kernel calls, over the thread pool when there is one and the work (in MACs) is worth it. */
  private runCalls(shard: number, calls: KernelCall[], macs: number): void {
    const exports = this.kernels(shard) as unknown as Record<string, (...args: number[]) => void>;
    if (!this.pool || macs < this.parallelMinMacs) {
      for (const call of calls) exports[call.kernel](...call.args);
      return;
    }
    this.pool.run(shard, calls, (call) => exports[call.kernel](...call.args));
  }

  private at(op: Operand, shard: number, access: 'read' | 'readwrite'): { ptr: number; stride: number } {
    const v: View = viewOf(op);
    const act = v.act as CpuActivation;
    return { ptr: this.shards.locate(act, shard, access) + v.offset * 4, stride: act.cols };
  }

  private cacheLayer(cache: LatentCache, layer: number): { shard: number; ptr: number } {
    const c = cache as CpuCache;
    if (c.released) throw new Error('CPU backend: use of a released latent cache');
    return c.perLayer[layer];
  }

  /** Scratch activations for ops that may cross memories, kept per (purpose, rows) and reused. */
  private internalActivation(purpose: string, rows: number, cols: number): CpuActivation {
    const key = `${purpose}:${rows}x${cols}`;
    let act = this.internal.get(key);
    if (!act) { act = new CpuActivation(rows, cols); this.internal.set(key, act); }
    return act;
  }
}
