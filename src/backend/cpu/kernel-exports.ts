// The Wasm module's kernel exports (assembly/index.ts), as the CPU backend calls
// them. Pointers are byte offsets into the instance's memory; sizes and strides
// count elements (f32 unless named otherwise). Kernels never allocate: every
// buffer, scratch included, is passed in by the TypeScript side (heap.ts).
//
// Weight pointers point at rows stored as the files store them: f32, f16
// (IEEE half), bf16, or ggml blocks along K (Q8_0: f16 d + 32 × i8, value
// q·d; Q4_0: f16 d + 16 bytes, element j<16 is the low nibble of byte j,
// element j+16 its high nibble, value (q − 8)·d; the other block types as
// src/model/weight-types.ts lists them, kernels in assembly/kernels/block_types.ts).
import { weightType, type DType } from '../../model/weight-types.ts';

/** matmul_<dtype>(w, x, xStride, out, outStride, N, K, T, scratch):
 *  out[t·outStride + n] = Σ_k x[t·xStride + k] · W[n, k] for t < T, n < N.
 *  W is [N, K] row-major in <dtype>. K is a multiple of the type's block (32 or 256).
 *  scratch: K f32 (rowScratchBytes) where f16 (T ≥ 8) decodes one weight row,
 *  Q8_0/Q4_0 (T > 1) hold one row's quants as f32, and block types with
 *  offsets keep the activation sums of up to 16 or 32 tokens; one per
 *  concurrently running call. f32 and bf16 ignore it. Every kernel gives a
 *  token the same bits whatever T is (batch invariance, README). */
export type MatmulKernel = (
  w: number, x: number, xStride: number, out: number, outStride: number, N: number, K: number, T: number, scratch: number,
) => void;

/** Bytes of a matmul call's row scratch (see MatmulKernel). */
export function rowScratchBytes(K: number): number {
  return K * 4;
}

/** matmul_<dtype>_int16(w, xq, out, outStride, N, K, T, scratch); see KernelExports.matmul_q8_0_int16. */
export type IntegerMatmulKernel = (
  w: number, xq: number, out: number, outStride: number, N: number, K: number, T: number, scratch: number,
) => void;

/** moe_route's codes for GatingParams.scoring and GatingParams.method. */
export const ROUTE_SCORING = { softmax: 0, sigmoid: 1 } as const;
export const ROUTE_METHOD = { greedy: 0, group_limited_greedy: 1, noaux_tc: 2 } as const;

/** Bytes of moe_route's scratch: s and c f32[E], group scores f32[groups], flags u8[groups + E]. */
export function routeScratchBytes(E: number, groups: number): number {
  return 9 * E + 5 * groups;
}

/** dequantize_<dtype>(src, dst, count): count (whole blocks) weights at src → f32 at dst. */
export type DequantizeKernel = (src: number, dst: number, count: number) => void;

/** The row decoder of `dtype` (undefined for f32, whose rows are copied). */
export function dequantizeKernel(k: KernelExports, dtype: DType): DequantizeKernel | undefined {
  const name = weightType(dtype).cpu.dequantize;
  return name === undefined ? undefined : (k as unknown as Record<string, DequantizeKernel>)[name];
}

export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  /** First byte past the module's static data: the TypeScript heap starts here. */
  heapBase(): number;

  matmul_f32: MatmulKernel;
  matmul_f16: MatmulKernel;
  matmul_bf16: MatmulKernel;
  matmul_q8_0: MatmulKernel;
  matmul_q4_0: MatmulKernel;
  /** The block types of assembly/kernels/block_types.ts (the one-token dot for every token). */
  matmul_q4_1: MatmulKernel; matmul_q5_0: MatmulKernel; matmul_q5_1: MatmulKernel; matmul_iq4_nl: MatmulKernel;
  matmul_q2_k: MatmulKernel; matmul_q3_k: MatmulKernel; matmul_q4_k: MatmulKernel; matmul_q5_k: MatmulKernel;
  matmul_q6_k: MatmulKernel; matmul_iq4_xs: MatmulKernel;

  /**
   * The int16-activation path (integer-kernels.ts), step 1: quantize_act_int16(x,
   * xStride, T, K, dst) quantizes f32 x[T, K] (row t at x + t·xStride·4; K a
   * multiple of 32) per 32-element block, s = amax/16383 and q = round(x/s)
   * (ties to even), into act_int16_bytes(K, T) bytes. Block-major: entry (b, t)
   * is the (b·T + t)-th of each array, for n = T·K/32 entries: n × i32x4 C =
   * (−8·Σq, 0, 0, 0); n × f32 s, padded to 16 bytes; n × 32 i16 q; n × 32 i8 h;
   * n × 32 u8 l with q = 128·h + l (assembly/kernels/act_quant.ts).
   */
  quantize_act_int16(x: number, xStride: number, T: number, K: number, dst: number): void;
  act_int16_bytes(K: number, T: number): number;
  /** Bytes of scratch a matmul_<dtype>_int16 call of T tokens needs (160 + 32·T; 0 for T = 1). */
  int16_scratch_bytes(T: number): number;
  /** Step 2: matmul_<q8_0|q4_0>_int16(w, xq, out, outStride, N, K, T, scratch):
   *  out[t·outStride + n] = Σ_b d[n, b] · s[t, b] · Σ_i w[n, b, i] · q[t, b, i], the block sums
   *  exact in i32 (Q4_0: w = nibble − 8). The _dotadd twin uses i32x4.relaxed_dot_i8x16_i7x16_add_s
   *  (only where the SIMD self-test passes it); in the plain build it is the same kernel. */
  matmul_q8_0_int16: IntegerMatmulKernel;
  matmul_q4_0_int16: IntegerMatmulKernel;
  matmul_q4_0_int16_dotadd: IntegerMatmulKernel;
  /** The same for the other block types (K a multiple of their block; assembly/kernels/matmul_blocks_int16.ts); their token loops use scratch too. */
  matmul_q4_k_int16: IntegerMatmulKernel;
  matmul_q6_k_int16: IntegerMatmulKernel;
  matmul_q5_k_int16: IntegerMatmulKernel;
  matmul_q5_0_int16: IntegerMatmulKernel;
  matmul_q5_1_int16: IntegerMatmulKernel;
  matmul_q4_1_int16: IntegerMatmulKernel;
  matmul_iq4_nl_int16: IntegerMatmulKernel;
  matmul_iq4_xs_int16: IntegerMatmulKernel;

  /** 1 in the relaxed-SIMD build (kernel-build.ts). */
  simd_relaxed(): number;
  /** Bits of the relaxed ops that give portable results (RELAXED_OPS); scratch: 64 bytes. 0 in the plain build. */
  simd_self_test(scratch: number, seed: number): number;

  /** dequantize_<dtype>(src, dst, count): dst f32[count] from count elements at src
   *  (count a multiple of 32 for quants; src at a block boundary). */
  dequantize_f16(src: number, dst: number, count: number): void;
  dequantize_bf16(src: number, dst: number, count: number): void;
  dequantize_q8_0(src: number, dst: number, count: number): void;
  dequantize_q4_0(src: number, dst: number, count: number): void;
  dequantize_q4_1: DequantizeKernel; dequantize_q5_0: DequantizeKernel; dequantize_q5_1: DequantizeKernel;
  dequantize_iq4_nl: DequantizeKernel; dequantize_q2_k: DequantizeKernel; dequantize_q3_k: DequantizeKernel;
  dequantize_q4_k: DequantizeKernel; dequantize_q5_k: DequantizeKernel; dequantize_q6_k: DequantizeKernel;
  dequantize_iq4_xs: DequantizeKernel;

  /** out[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) · w[:]; w is f32[cols]; out may equal x. */
  rmsnorm(x: number, xStride: number, w: number, out: number, outStride: number, rows: number, cols: number, eps: number): void;
  /** DeepSeek interleaved RoPE in place: for each row r and head h, pairs
   *  (x[i], x[i+1]) at i = r·xStride + h·headStride + 2j, j < dim/2, are rotated by
   *  cosSin[(r·dim/2 + j)·2 + {0: cos, 1: sin}] — see src/model/rope.ts for the
   *  de-interleaving this is equivalent to. */
  rope(x: number, xStride: number, rows: number, cosSin: number, heads: number, headStride: number, dim: number): void;
  /** x[r, :] += y[r, :] */
  add(x: number, xStride: number, y: number, yStride: number, rows: number, cols: number): void;
  /** out[r, i] = silu(g[r, i]) · u[r, i]; out may equal g. */
  swiglu(g: number, gStride: number, u: number, uStride: number, out: number, outStride: number, rows: number, cols: number): void;
  /** dst[r, :] = src[r, :] for rows, cols (f32, strided copy). */
  copy_rows(src: number, srcStride: number, dst: number, dstStride: number, rows: number, cols: number): void;

  /**
   * Absorbed MLA core over one layer's paged latent cache. For query row t < T
   * at position pos_t of its sequence and head h < heads:
   *   s_j = (qlat[t,h,:] · c_j + qpe[t,h,:] · kpe_j) · scale  for j ≤ pos_t
   *   olat[t,h,:] = Σ_j softmax(s)_j · c_j
   * qlat, olat: f32 rows latStride apart, head h at h·kvr; qpe at
   * qpe + (t·qpeStride + h·qpeHeadStride)·4, rope values each. rows: i32 [T, 2]
   * (pos_t, first entry of the row's block table in blockRows); blockRows: u32
   * byte addresses of blocks, position j of the row's sequence at
   * blockRows[first + ⌊j / blockSize⌋] + (j % blockSize)·width·4. Cache rows
   * are [c (kvr) | kpe (rope)]. scratch: f32[heads · (max pos_t + 1)] for
   * scores. Loads each cache row once for all heads.
   */
  mla_attend(
    qlat: number, qpe: number, qpeStride: number, qpeHeadStride: number, latStride: number,
    blockRows: number, rows: number, blockSize: number, width: number, kvr: number, rope: number,
    heads: number, T: number, scale: number, olat: number, scratch: number,
  ): void;

  /**
   * MoE router (design.md "DeepSeekMoE"; assembly/moe/gating.ts), per token t < T, in f32:
   *   s = softmax(logits[t, :E]) (scoring 0) or sigmoid(logits[t, :E]) (scoring 1);
   *   c = s, or s + bias[:E] for method 2 (bias: f32[E], read only by method 2);
   *   method 0 greedy: top-k of c;
   *   method 1 group_limited_greedy: group score = max c in the group (E/groups
   *     experts each), keep the topKGroups best groups, set the others' c to 0, then top-k;
   *   method 2 noaux_tc: with groups > 1, group score = sum of the group's two
   *     largest c, keep the topKGroups best groups, the others' experts are never
   *     chosen; then top-k of c.
   *   Ties go to the lower index. Weights are the chosen experts' s (unbiased):
   *   if k > 1 and normTopK: w / (Σw + 1e-20); then · scale for method 2, else
   *   · scale only when not normalised.
   * Writes outIdx i32[T, k] and outW f32[T, k] (selection order: descending
   * c). scratch: routeScratchBytes(E, groups) bytes.
   */
  moe_route(
    logits: number, logitsStride: number, T: number, E: number, k: number,
    scoring: number, method: number, groups: number, topKGroups: number, normTopK: number, scale: number, bias: number,
    outIdx: number, outW: number, scratch: number,
  ): void;
  /**
   * Groups a routing by expert: counts i32[E] (tokens per expert), and
   * order i32[T·k + E] (the last E entries are working space) listing slots s = t·k + j sorted by (expert, t). Returns the
   * number of experts with at least one token.
   */
  moe_group(idx: number, T: number, k: number, E: number, counts: number, order: number): number;
  /** Reads `bytes` (a multiple of 64) from ptr as fast as one thread can (bandwidth probe); returns a checksum. */
  stream_read(ptr: number, bytes: number): number;
  /** dst[i, :] = src[rows[i], :] for i < n (rows: i32[n]). */
  gather_rows(src: number, srcStride: number, rows: number, n: number, cols: number, dst: number): void;
  /** dst[rows[i], :] += weights[i] · src[i, :] for i < n. */
  scatter_add_rows(src: number, cols: number, rows: number, weights: number, n: number, dst: number, dstStride: number): void;
}
