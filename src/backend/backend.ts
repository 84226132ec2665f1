// The op interface the forward pass is written against (design.md "The seams
// that matter"). A backend implements these ops and nothing else; the model
// logic in src/engine never reaches behind them. Every op is tested against the
// plain-JS float64 reference in test/ops (ggml's test-backend-ops idea), the
// same test file for every backend.
//
// Conventions
// - Matrices are row-major. A weight `W` has shape [N, K] (N output rows of K
//   inputs, as HF `nn.Linear.weight` and ggml's ne=[K, N]); stacked weights
//   (experts, per-head matrices) are [E, N, K]. Quantized rows are stored in
//   ggml's block layout along K (src/model/weight-types.ts: 32-element blocks
//   for Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/IQ4_NL, 256-element super-blocks for the
//   K-quants and IQ4_XS), so K is a multiple of the type's block.
// - Activations are f32 matrices [rows, cols] held by the backend. A `View`
//   selects a column range of an activation (e.g. the `c` part of the
//   kv_a_proj output); ops take views wherever a sub-range is natural.
// - Ops are recorded in call order. CPU backends run them at once; the WebGPU
//   backend records them into one command encoder and submits on `flush()`
//   (or on a read). Only `read` returns data to JS.

import type { DType } from '../model/weight-types.ts';

export type { DType } from '../model/weight-types.ts';
export { bytesFor } from '../model/weight-types.ts';

/** Raw weight bytes as a file stores them, before the backend's own layout. */
export interface WeightData {
  /** Tensor name, for error messages (`model.layers.3.mlp.experts.gate_proj`). */
  readonly name: string;
  readonly dtype: DType;
  /** [N, K] or [E, N, K]; the last dimension is contiguous. */
  readonly shape: readonly number[];
  /** Exactly `bytesFor(dtype, shape)` bytes. */
  readonly bytes: Uint8Array;
}

/** A weight uploaded into the backend's memory, in the backend's layout. */
export interface Weight {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Bytes the backend holds for it (what a full read of this weight moves). */
  readonly byteLength: number;
}

/** An f32 activation matrix [rows, cols] owned by the backend. */
export interface Activation {
  readonly rows: number;
  readonly cols: number;
}

/** Columns [offset, offset + cols) of an activation, all its rows. */
export interface View {
  readonly act: Activation;
  readonly offset: number;
  readonly cols: number;
}

export type Operand = Activation | View;

/**
 * The latent KV cache (design.md "The latent KV cache") as a pool of
 * fixed-size blocks (vLLM's PagedAttention, applied to the latent rows):
 * a block holds `blockSize` consecutive positions of one sequence in every
 * layer, each row `c` (after kv_a_layernorm, kvLoraRank values) followed by
 * `k_pe` (after RoPE, ropeDim values). Nothing else is cached. Which blocks
 * belong to which sequence is src/engine's business (block-pool.ts); ops see
 * block tables (CacheRows), never sequences.
 */
export interface LatentCache {
  readonly layers: number;
  /** Positions per block. */
  readonly blockSize: number;
  /** kvLoraRank + ropeDim */
  readonly width: number;
  /** Blocks the backend holds memory for now (growLatentCache adds more). */
  readonly blocks: number;
  /** The most blocks this backend can hold in one cache (a binding limit on WebGPU). */
  readonly maxBlocks: number;
  /** Bytes the backend holds for the cache (layers × blocks × blockSize × width × 4). */
  readonly byteLength: number;
}

/**
 * Where each row of a forward step sits in the latent cache (vLLM's
 * "positions, block tables"). Row t is position positions[t] of a sequence
 * whose block table starts at blocks[tableStart[t]]: position p of that
 * sequence lives in row p % blockSize of block blocks[tableStart[t] + ⌊p / blockSize⌋].
 * Rows of one sequence share its table. Row t attends causally to positions
 * [0, positions[t]] of its own sequence, rows of the same step included.
 */
export interface CacheRows {
  /** [T] each row's position: its RoPE angle, its cache slot, its causal limit. */
  readonly positions: Int32Array;
  /** [T] where the row's block table starts in `blocks`. */
  readonly tableStart: Int32Array;
  /** The step's block tables one after another: block ids, in position order. */
  readonly blocks: Int32Array;
}

/**
 * Gating of a MoE layer (design.md "DeepSeekMoE"): MoEGate.forward of
 * DeepSeek-V2 (softmax; greedy | group_limited_greedy) and DeepSeek-V3
 * (sigmoid; noaux_tc with the e_score_correction_bias). The rule, per token:
 * - scores s = softmax(logits) or sigmoid(logits) (`scoring`), in f32;
 * - choice c = s, or s + bias for noaux_tc;
 * - group_limited_greedy: a group scores its max c; the topKGroups best groups
 *   are kept and the other experts' c set to 0. noaux_tc with groups > 1: a
 *   group scores the sum of its two largest c; experts of the other groups are
 *   never chosen;
 * - the topK experts by c, in descending order, ties to the lower expert index;
 * - their weights are s (never biased): divided by their sum + 1e-20 when
 *   topK > 1 and normTopKProb; then multiplied by routedScalingFactor — always
 *   for noaux_tc (V3 normalises and scales), otherwise only when not normalised.
 */
export interface GatingParams {
  readonly experts: number;
  readonly topK: number;
  readonly scoring: 'softmax' | 'sigmoid';
  readonly method: 'greedy' | 'group_limited_greedy' | 'noaux_tc';
  readonly groups: number;
  readonly topKGroups: number;
  readonly normTopKProb: boolean;
  readonly routedScalingFactor: number;
  /** noaux_tc only: the layer's e_score_correction_bias, an f32 weight [experts] this backend holds. */
  readonly bias?: Weight;
}

/** The routing decision for a batch of tokens, kept wherever the backend likes. */
export interface RoutePlan {
  readonly tokens: number;
  readonly topK: number;
}

export interface ExpertWeights {
  /** [E, I, H] */ readonly gate: Weight;
  /** [E, I, H] */ readonly up: Weight;
  /** [E, H, I] */ readonly down: Weight;
}

/** Absorbed MLA weights of one layer, from kv_b_proj split per head. */
export interface AbsorbedAttentionWeights {
  /** W_UKᵀ per head: [heads, kvLoraRank, nope] — q_lat = W_UKᵀ · q_nope. */
  readonly wkb: Weight;
  /** W_UV per head: [heads, vHeadDim, kvLoraRank] — v = W_UV · o_lat. */
  readonly wvb: Weight;
}

export interface MlaShape {
  readonly heads: number;
  readonly nope: number;
  readonly rope: number;
  readonly vHeadDim: number;
  readonly kvLoraRank: number;
  readonly softmaxScale: number;
}

/** Where to put a weight or cache: backends that shard memory keep a layer together. */
export interface Placement {
  /** Layer index, or -1 for embeddings / -2 for the output head. */
  readonly layer: number;
}

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** CPU backends: the threads kernels run on (1, or the thread pool's size). */
  readonly threads?: number;
  /** Weight dtypes this backend can hold natively (others are converted by the loader). */
  readonly weightDTypes: readonly DType[];
  /** Optional: which build of its kernels runs (CPU: 'relaxed' or 'plain' SIMD), for /health and bench. */
  readonly kernelBuild?: string;
  /** Optional: how matmuls with this weight type treat activations ('f32' exact, or an integer mode). Absent: 'f32'. */
  matmulActivations?(dtype: DType): string;

  /**
   * Optional: throws, before anything is uploaded, when weights of these
   * dtypes and shapes cannot be held (a limit of the device, named in the message).
   */
  checkWeights?(weights: readonly Omit<WeightData, 'bytes'>[], model: string): void;
  uploadWeight(data: WeightData, placement: Placement): Weight;
  /**
   * Optional: allocates a weight stored as is and lets `fill` write its bytes
   * straight into the backend's memory (no intermediate copy while loading).
   */
  uploadWeightFrom?(
    meta: Omit<WeightData, 'bytes'>, placement: Placement, fill: (dst: Uint8Array) => Promise<void>,
  ): Promise<Weight>;
  createActivation(rows: number, cols: number): Activation;
  /** An empty latent cache (0 blocks) of rows `width` wide in blocks of `blockSize` positions. */
  createLatentCache(layers: number, blockSize: number, width: number): LatentCache;
  /** Makes the cache hold at least `blocks` blocks; rows already written keep their values. */
  growLatentCache(cache: LatentCache, blocks: number): void;
  /** Releases an activation, weight or cache. Using it afterwards is an error. */
  release(resource: Activation | Weight | LatentCache): void;

  /** dst[r, :] = data[r, :] for rows [0, data.length / dst.cols). */
  write(dst: Operand, data: Float32Array): void;
  /** Returns rows [row0, row0 + rows) of src. Flushes pending work first. */
  read(src: Operand, row0?: number, rows?: number): Promise<Float32Array>;
  /** Submits recorded work (a no-op on CPU). */
  flush(): void;

  /** dst[i, :] = src[rows[i], :] for i < rows.length (e.g. the rows that need logits, before lm_head). */
  gatherRows(src: Operand, rows: Int32Array, dst: Operand): void;
  /** out[t, :] = table[ids[t], :] (dequantized). table: [V, H]. */
  embed(ids: Int32Array, table: Weight, out: Operand): void;
  /** out[t, n] = Σ_k x[t, k] · W[n, k] for t < x.rows (or `rows`). W: [N, K]. */
  matmul(x: Operand, w: Weight, out: Operand, rows?: number): void;
  /** out[t, :] = x[t, :] / sqrt(mean(x[t, :]²) + eps) · w. out may equal x. */
  rmsnorm(x: Operand, w: Weight, eps: number, out: Operand): void;
  /**
   * DeepSeek's interleaved RoPE in place on `heads` sub-vectors of each row:
   * head h's rotary part starts at column h·headStride + offset of the view,
   * `dim` values long. cosSin: [x.rows, dim/2, 2] (cos, sin) per row, with
   * YaRN's attention factor already folded in. See src/model/rope.ts.
   */
  rope(x: Operand, cosSin: Float32Array, heads: number, headStride: number, dim: number): void;
  /** x[t, :] += y[t, :]. */
  add(x: Operand, y: Operand): void;
  /** out[t, i] = silu(gate[t, i]) · up[t, i]. */
  swiglu(gate: Operand, up: Operand, out: Operand): void;

  /** Stores row t's latent (c then k_pe) at its position in its sequence's blocks, for every row of c. */
  cacheWrite(cache: LatentCache, layer: number, rows: CacheRows, c: Operand, kpe: Operand): void;
  /**
   * Absorbed MLA (design.md "Absorbed decode") for q rows, row t attending
   * causally to positions [0, positions[t]] of its own sequence (a ragged batch).
   * q: [T, heads·(nope+rope)] (rope part already rotated); out: [T, heads·v].
   */
  mlaAttention(
    q: Operand, cache: LatentCache, layer: number, rows: CacheRows,
    weights: AbsorbedAttentionWeights, shape: MlaShape, out: Operand,
  ): void;

  /**
   * The experts and weights of every row of routerLogits [T, experts] at once
   * (GatingParams gives the rule), in f32; ties go to the lower expert index.
   */
  route(routerLogits: Operand, params: GatingParams): RoutePlan | Promise<RoutePlan>;
  /** The plan's selection as plain arrays [tokens, topK] (tests compare backends with it). */
  readPlan(plan: RoutePlan): Promise<{ experts: Int32Array; weights: Float32Array }>;
  /** out[t, :] += Σ_k w_tk · expert_k(x[t, :]) over the plan's selected experts. */
  moeExperts(x: Operand, plan: RoutePlan, experts: ExpertWeights, out: Operand): void;

  /** Frees everything the backend holds. */
  dispose(): void;
}

export function viewOf(op: Operand): View {
  return 'act' in op ? op : { act: op, offset: 0, cols: op.cols };
}

export function columns(act: Activation, offset: number, cols: number): View {
  if (offset < 0 || cols < 0 || offset + cols > act.cols) {
    throw new RangeError(`columns [${offset}, ${offset + cols}) outside an activation of ${act.cols} columns`);
  }
  return { act, offset, cols };
}

/**
 * Checks GatingParams before a backend routes with them (a wrong rule would
 * route silently); returns the noaux_tc bias, undefined for the other methods.
 */
export function checkGating(g: GatingParams): Weight | undefined {
  const fail = (message: string): never => { throw new Error(`route: ${message}`); };
  const { experts: E, topK: k, groups } = g;
  if (!(k >= 1 && k <= E)) fail(`top-${k} of ${E} experts`);
  if (g.method !== 'greedy' && (E % groups !== 0 || g.topKGroups < 1 || g.topKGroups > groups || (E / groups) * g.topKGroups < k)) {
    fail(`${E} experts in ${groups} groups, ${g.topKGroups} kept, cannot give top-${k}`);
  }
  const wantScoring = g.method === 'noaux_tc' ? 'sigmoid' : 'softmax';
  if (g.scoring !== wantScoring) fail(`${g.method} routing scores with ${wantScoring}, not ${g.scoring}`);
  if (g.method !== 'noaux_tc') return undefined;
  if (groups > 1 && E / groups < 2) fail(`noaux_tc scores a group by its two best experts; ${E} experts in ${groups} groups leave ${E / groups}`);
  const bias = g.bias;
  if (!bias) return fail('noaux_tc needs the layer\'s e_score_correction_bias (GatingParams.bias)');
  if (bias.dtype !== 'f32' || bias.shape.length !== 1 || bias.shape[0] !== E) {
    fail(`${bias.name} is ${bias.dtype} [${bias.shape.join(', ')}], expected f32 [${E}]`);
  }
  return bias;
}

/** The physical cache row (block · blockSize + offset) of row t of a step. */
export function cacheSlot(rows: CacheRows, t: number, blockSize: number): number {
  const p = rows.positions[t];
  return rows.blocks[rows.tableStart[t] + Math.floor(p / blockSize)] * blockSize + (p % blockSize);
}

/** Checks that every block the first T rows write or read is inside the cache and the tables. */
export function checkCacheRows(cache: LatentCache, rows: CacheRows, T: number): void {
  if (rows.positions.length < T || rows.tableStart.length < T) {
    throw new RangeError(`cache rows: ${rows.positions.length} positions and ${rows.tableStart.length} table starts for ${T} rows`);
  }
  for (let t = 0; t < T; t++) {
    const p = rows.positions[t];
    const start = rows.tableStart[t];
    const used = Math.floor(p / cache.blockSize) + 1;
    if (!Number.isInteger(p) || p < 0 || start < 0 || start + used > rows.blocks.length) {
      throw new RangeError(`cache rows: row ${t} at position ${p} needs ${used} table entries from ${start}; the tables hold ${rows.blocks.length}`);
    }
    for (let i = start; i < start + used; i++) {
      const id = rows.blocks[i];
      if (id < 0 || id >= cache.blocks) throw new RangeError(`cache rows: row ${t} uses block ${id}; the latent cache holds ${cache.blocks} blocks`);
    }
  }
}
