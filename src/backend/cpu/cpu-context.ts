// What the CPU backend's op modules (mla-attention.ts, moe-experts.ts) use of
// it: the Wasm instances, activation placement across memories, scratch, and
// the matmul dispatch.
import type { LatentCache, Operand } from '../backend.ts';
import type { CpuCacheLayer } from './cpu-types.ts';
import type { KernelExports } from './kernel-exports.ts';
import type { MatmulDispatch } from './matmul-dispatch.ts';
import type { CpuActivation, Scratch, ShardSet } from './shards.ts';
import type { WasmInstance } from './wasm-instance.ts';

export interface CpuContext {
  readonly instances: readonly WasmInstance[];
  readonly shards: ShardSet;
  readonly scratch: Scratch;
  readonly dispatch: MatmulDispatch;
  kernels(shard: number): KernelExports;
  /** An operand's address and row stride in `shard`, current values copied in for reading. */
  at(op: Operand, shard: number, access: 'read' | 'readwrite'): { ptr: number; stride: number };
  cacheLayer(cache: LatentCache, layer: number): CpuCacheLayer;
  internalActivation(purpose: string, rows: number, cols: number): CpuActivation;
}
