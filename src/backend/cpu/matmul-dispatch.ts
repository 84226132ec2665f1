// How the CPU backend runs a matmul: on the calling thread, or split into
// row ranges over the thread pool (threads/pool.ts) when there is one and the
// work is worth waking it; with exact f32 activations, or with activations
// quantized once per call for the integer kernel the weight type's table row
// names (src/model/weight-types.ts `cpu.int16`, integer-kernels.ts); every
// other type runs its exact kernel in that mode too.
import { bytesFor, type DType } from '../backend.ts';
import { weightType } from '../../model/weight-types.ts';
import { rowScratchBytes, type IntegerMatmulKernel } from './kernel-exports.ts';
import { ACTIVATION_FORMATS, activationsFor, integerKernel, type ActivationMode } from './integer-kernels.ts';
import type { Scratch } from './shards.ts';
import type { KernelCall, ThreadPool } from './threads/pool.ts';
import type { WasmInstance } from './wasm-instance.ts';

/** Scratch slot of the quantized activations of one matmul (or one per-head batch of them). */
const XQ_SLOT = 8;
/** Scratch slot of the decoded weight rows of f32-activation prefill calls, or the integer kernels' accumulators, one per call. */
const ROW_SLOT = 9;

/** Below this many multiply-adds a matmul runs on one thread: waking workers costs more. */
const DEFAULT_PARALLEL_MIN_MACS = 1 << 16;
/**
 * A split matmul becomes up to this many calls per thread: threads take calls
 * as they free up (threads/pool.ts), so one the OS deschedules for a while
 * (other jobs on the machine) delays the batch by one call, not by its half.
 */
const CALLS_PER_THREAD = 4;
/** ...while each call keeps at least this many multiply-adds (a call's fixed cost is about a microsecond). */
const MIN_CALL_MACS = 1 << 20;
/** Row ranges start on multiples of this (the kernels take rows in pairs and fours). */
const ROW_GRAIN = 4;
/** Concurrent calls' scratch starts this many bytes apart at least: no cache line (or prefetched pair) is shared. */
const SCRATCH_ALIGN = 128;

/** Activations quantized for a weight type's integer kernel: `heads` runs of T tokens, head h at ptr + h·headBytes. */
export interface QuantizedActivations {
  readonly ptr: number;
  readonly headBytes: number;
  readonly kernel: string;
  /** Scratch bytes each call of the kernel needs, padded so that calls side by side share no cache line. */
  readonly scratchBytes: number;
}

export class MatmulDispatch {
  constructor(
    private readonly instances: readonly WasmInstance[],
    private readonly scratch: Scratch,
    private readonly pool: ThreadPool | undefined,
    /** The requested mode; undefined: each weight type's default (integer-kernels.ts). */
    private readonly activations: ActivationMode | undefined,
    /** Relaxed ops the module's self-test passed (0 in the plain build): picks kernel twins. */
    private readonly relaxedOps: number,
    private readonly parallelMinMacs = DEFAULT_PARALLEL_MIN_MACS,
  ) {}

  /** The activation mode matmuls with this weight type run in. */
  modeFor(dtype: DType): ActivationMode {
    return activationsFor(dtype, this.activations);
  }

  /** Threads a batch of kernel calls is spread over (1 without a pool). */
  get threads(): number { return this.pool?.threads ?? 1; }

  /** A matmul, split into row ranges across threads when there is a pool and enough work. */
  matmul(
    shard: number, dtype: DType, w: number, x: number, xStride: number, out: number, outStride: number, N: number, K: number, T: number,
  ): void {
    // Activations are quantized once, here on the calling thread; row ranges then share them.
    const xq = this.quantizeHeads(shard, dtype, x, xStride, 0, 1, K, T);
    const threads = this.pool?.threads ?? 1;
    const { matmul } = weightType(dtype).cpu;
    const exports = this.instances[shard].exports as unknown as Record<string, (...args: number[]) => void>;
    if (threads === 1 || N * K * T < this.parallelMinMacs || N < threads) {
      if (xq) (exports[xq.kernel] as IntegerMatmulKernel)(w, xq.ptr, out, outStride, N, K, T, this.scratchFor(shard, 1, xq.scratchBytes));
      else exports[matmul](w, x, xStride, out, outStride, N, K, T, this.rowScratch(shard, 1, K));
      return;
    }
    const rowBytes = bytesFor(dtype, [1, K]);
    const parts = Math.min(threads * CALLS_PER_THREAD, Math.max(threads, Math.floor((N * K * T) / MIN_CALL_MACS)));
    const per = Math.ceil(N / parts / ROW_GRAIN) * ROW_GRAIN;
    const callScratch = xq ? xq.scratchBytes : padScratch(rowScratchBytes(K));
    const scratch = this.scratchFor(shard, Math.ceil(N / per), callScratch);
    const calls: KernelCall[] = [];
    for (let n0 = 0, c = 0; n0 < N; n0 += per, c++) {
      const rows = Math.min(per, N - n0);
      calls.push(xq
        ? { kernel: xq.kernel, args: [w + n0 * rowBytes, xq.ptr, out + n0 * 4, outStride, rows, K, T, scratch + c * callScratch] }
        : { kernel: matmul, args: [w + n0 * rowBytes, x, xStride, out + n0 * 4, outStride, rows, K, T, scratch + c * callScratch] });
    }
    this.runCalls(shard, calls, N * K * T);
  }

  /**
   * Where the weight type runs an integer kernel in this mode: x[T, K] of each
   * of `heads` heads (head h at x + h·headStride·4, rows xStride apart)
   * quantized into this shard's XQ_SLOT scratch in the kernel's activation
   * format. Otherwise undefined: the f32 kernels read x as it is.
   */
  quantizeHeads(
    shard: number, dtype: DType, x: number, xStride: number, headStride: number, heads: number, K: number, T: number,
  ): QuantizedActivations | undefined {
    const mode = this.modeFor(dtype);
    if (mode === 'f32') return undefined;
    const format = ACTIVATION_FORMATS[mode];
    if (K % format.block !== 0) throw new Error(`CPU backend: ${dtype} matmul with K = ${K}, not a multiple of ${format.block}`);
    const headBytes = format.bytes(K, T);
    const ptr = this.scratch.get(shard, XQ_SLOT, heads * headBytes);
    const k = this.instances[shard].exports;
    for (let h = 0; h < heads; h++) k[format.quantize](x + h * headStride * 4, xStride, T, K, ptr + h * headBytes);
    return { ptr, headBytes, kernel: integerKernel(dtype, this.relaxedOps)!, scratchBytes: padScratch(format.scratchBytes(T)) };
  }

  /** Row scratch for `calls` f32-activation matmul calls of width K that may run at once, call c at ptr + c·rowScratchBytes(K). */
  rowScratch(shard: number, calls: number, K: number): number {
    return this.scratchFor(shard, calls, rowScratchBytes(K));
  }

  /** Scratch of `bytes` each for `calls` kernel calls that may run at once, call c at ptr + c·bytes. */
  scratchFor(shard: number, calls: number, bytes: number): number {
    return this.scratch.get(shard, ROW_SLOT, Math.max(1, calls * bytes));
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

/** Per-call scratch bytes rounded up so that calls running at once never write the same cache lines. */
function padScratch(bytes: number): number {
  return Math.ceil(bytes / SCRATCH_ALIGN) * SCRATCH_ALIGN;
}
