// Which Wasm memory ("shard", see shards.ts) a weight goes to. Weights fill a
// memory in load order up to a budget; a new layer starts a new memory when
// the largest layer seen so far would not fit, so a layer's weights usually
// share a memory (ops still work when they do not: activations move).

const DEFAULT_SHARD_WEIGHT_BYTES = 3 * 1024 ** 3;
/** Leaves room for caches, activations and scratch in a 4 GiB memory. */
const MAX_SHARD_BYTES = 3.75 * 1024 ** 3;

export class WeightPlacement {
  private readonly load: number[] = [0];
  private readonly firstShardOfLayer = new Map<number, number>();
  private current = 0;
  private lastLayer = Number.NaN;
  private currentLayerBytes = 0;
  private largestLayer = 0;

  constructor(private readonly budget = DEFAULT_SHARD_WEIGHT_BYTES) {}

  /** The shard for `bytes` of weight `name` of `layer` (a shard index may be one past those open). */
  place(name: string, layer: number, bytes: number): number {
    if (bytes > this.budget && bytes > MAX_SHARD_BYTES) throw new Error(`${name}: ${bytes} bytes do not fit one Wasm memory (4 GiB)`);
    if (layer !== this.lastLayer) {
      this.largestLayer = Math.max(this.largestLayer, this.currentLayerBytes);
      this.currentLayerBytes = 0;
      this.lastLayer = layer;
      if (this.loadOf(this.current) > 0 && this.loadOf(this.current) + this.largestLayer > this.budget) this.current++;
    }
    if (this.loadOf(this.current) > 0 && this.loadOf(this.current) + bytes > this.budget) this.current++;
    this.currentLayerBytes += bytes;
    this.load[this.current] = this.loadOf(this.current) + bytes;
    if (!this.firstShardOfLayer.has(layer)) this.firstShardOfLayer.set(layer, this.current);
    return this.current;
  }

  /** Where a layer's latent cache goes: with the layer's first (attention) weights. */
  layerShard(layer: number): number {
    return this.firstShardOfLayer.get(layer) ?? 0;
  }

  released(shard: number, bytes: number): void {
    this.load[shard] -= bytes;
  }

  private loadOf(shard: number): number {
    return this.load[shard] ?? 0;
  }
}
