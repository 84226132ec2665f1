// The CPU backend's concrete resources, shared by its op modules.
import type { LatentCache, RoutePlan, Weight } from '../backend.ts';

export interface CpuWeight extends Weight {
  readonly shard: number;
  readonly ptr: number;
  released: boolean;
}

export interface CpuCache extends LatentCache {
  readonly perLayer: { shard: number; ptr: number }[];
  released: boolean;
}

export interface CpuRoutePlan extends RoutePlan {
  /** Selected experts per token, [tokens, topK]. */
  readonly experts: Int32Array;
  /** Their gate weights, [tokens, topK]. */
  readonly weights: Float32Array;
}
