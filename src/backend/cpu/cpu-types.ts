// The CPU backend's concrete resources, shared by its op modules.
import type { LatentCache, RoutePlan, Weight } from '../backend.ts';

export interface CpuWeight extends Weight {
  readonly shard: number;
  readonly ptr: number;
  released: boolean;
}

/** One layer of the latent cache: its memory and the address of every block there. */
export interface CpuCacheLayer {
  readonly shard: number;
  /** Byte address of block b's first row, for b < blocks. */
  readonly blockPtrs: number[];
  /** Allocations holding the blocks (one per growth), released with the cache. */
  readonly slabs: number[];
}

export interface CpuCache extends LatentCache {
  blocks: number;
  byteLength: number;
  readonly perLayer: CpuCacheLayer[];
  released: boolean;
}

export interface CpuRoutePlan extends RoutePlan {
  /** Selected experts per token, [tokens, topK]. */
  readonly experts: Int32Array;
  /** Their gate weights, [tokens, topK]. */
  readonly weights: Float32Array;
}
