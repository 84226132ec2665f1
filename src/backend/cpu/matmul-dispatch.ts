// How the CPU backend runs a matmul: on the calling thread, or split into
// row ranges over the thread pool (threads/pool.ts) when there is one and the
// work is worth waking it; with exact f32 activations, or with activations
// quantized once to int16 blocks for the types whose table row names an
// integer kernel (src/model/weight-types.ts `cpu.int16`: Q8_0/Q4_0); every
// other type runs its exact kernel in that mode too.
import { bytesFor, type DType } from '../backend.ts';
import { weightType } from '../../model/weight-types.ts';
import { ACT_I16_BLOCK_BYTES, rowScratchBytes } from './kernel-exports.ts';
import type { Scratch } from './shards.ts';
import type { KernelCall, ThreadPool } from './threads/pool.ts';
import type { WasmInstance } from './wasm-instance.ts';

/** Scratch slot of the int16-quantized activations of one matmul (or one per-head batch of them). */
const XQ_SLOT = 8;
/** Scratch slot of the decoded weight rows of f32-activation prefill calls, one per call (rowScratchBytes). */
const ROW_SLOT = 9;

/** Below this many multiply-adds a matmul runs on one thread: waking workers costs more. */
const DEFAULT_PARALLEL_MIN_MACS = 1 << 16;

export type ActivationMode = 'f32' | 'int16';

export class MatmulDispatch {
  constructor(
    private readonly instances: readonly WasmInstance[],
    private readonly scratch: Scratch,
    private readonly pool: ThreadPool | undefined,
    private readonly activations: ActivationMode,
    private readonly parallelMinMacs = DEFAULT_PARALLEL_MIN_MACS,
  ) {
    if (activations !== 'f32' && activations !== 'int16') {
      throw new Error(`CPU backend: activations must be 'f32' or 'int16', got '${String(activations)}'`);
    }
  }

  /** Threads a batch of kernel calls is spread over (1 without a pool). */
  get threads(): number { return this.pool?.threads ?? 1; }

  /** A matmul, split into row ranges across threads when there is a pool and enough work. */
  matmul(
    shard: number, dtype: DType, w: number, x: number, xStride: number, out: number, outStride: number, N: number, K: number, T: number,
  ): void {
    // Int16 activations are quantized once, here on the calling thread; row ranges then share them.
    const xq = this.quantizeHeads(shard, dtype, x, xStride, 0, 1, K, T);
    const threads = this.pool?.threads ?? 1;
    const { matmul, int16 } = weightType(dtype).cpu;
    const exports = this.instances[shard].exports as unknown as Record<string, (...args: number[]) => void>;
    if (threads === 1 || N * K * T < this.parallelMinMacs || N < threads) {
      if (xq) exports[int16!](w, xq.ptr, out, outStride, N, K, T);
      else exports[matmul](w, x, xStride, out, outStride, N, K, T, this.rowScratch(shard, 1, K));
      return;
    }
    const rowBytes = bytesFor(dtype, [1, K]);
    const per = Math.ceil(N / threads);
    const scratch = xq ? 0 : this.rowScratch(shard, Math.ceil(N / per), K);
    const calls: KernelCall[] = [];
    for (let n0 = 0, c = 0; n0 < N; n0 += per, c++) {
      const rows = Math.min(per, N - n0);
      calls.push(xq
        ? { kernel: int16!, args: [w + n0 * rowBytes, xq.ptr, out + n0 * 4, outStride, rows, K, T] }
        : { kernel: matmul, args: [w + n0 * rowBytes, x, xStride, out + n0 * 4, outStride, rows, K, T, scratch + c * rowScratchBytes(K)] });
    }
    this.runCalls(shard, calls, N * K * T);
  }

  /**
   * With int16 activations and a weight type that has an integer kernel: x[T, K] of each of `heads`
   * heads (head h at x + h·headStride·4, rows xStride apart) quantized by
   * quantize_act_i16 into this shard's XQ_SLOT scratch, head h at ptr + h·headBytes.
   * Otherwise undefined: the f32 kernels read x as it is.
   */
  quantizeHeads(
    shard: number, dtype: DType, x: number, xStride: number, headStride: number, heads: number, K: number, T: number,
  ): { ptr: number; headBytes: number } | undefined {
    if (this.activations !== 'int16' || weightType(dtype).cpu.int16 === undefined) return undefined;
    const headBytes = T * (K / 32) * ACT_I16_BLOCK_BYTES;
    const ptr = this.scratch.get(shard, XQ_SLOT, heads * headBytes);
    const k = this.instances[shard].exports;
    for (let h = 0; h < heads; h++) k.quantize_act_i16(x + h * headStride * 4, xStride, T, K, ptr + h * headBytes);
    return { ptr, headBytes };
  }

  /** Row scratch for `calls` f32-activation matmul calls of width K that may run at once, call c at ptr + c·rowScratchBytes(K). */
  rowScratch(shard: number, calls: number, K: number): number {
    return this.scratch.get(shard, ROW_SLOT, calls * rowScratchBytes(K));
  }

  /** Runs independent kernel calls, over the thread pool when there is one and the work (in MACs) is worth it. */
  runCalls(shard: number, calls: KernelCall[], macs: number): void {
    const exports = this.instances[shard].exports as unknown as Record<string, (...args: number[]) => void>;
    if (!this.pool || macs < this.parallelMinMacs) {
      for (const call of calls) exports[call.kernel](...call.args);
      return;
    }
    this.pool.run(shard, calls, (call) => exports[call.kernel](...call.args));
  }
}
