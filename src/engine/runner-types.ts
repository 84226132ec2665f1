import type { Backend } from '../backend/backend.ts';
import type { ModelConfig } from '../model/config.ts';

/** One sequence's place in the model: its latent cache and how much of it is filled. */
export interface Sequence {
  /** Tokens already in the cache. */
  readonly length: number;
  /** Positions the cache can hold. */
  readonly capacity: number;
  /** Bytes of latent cache reserved for it. */
  readonly cacheBytes: number;
}

/**
 * A loaded model on a backend: the forward pass over a latent cache. The
 * engine (generation, scheduler) is built on this; so are the CLI's `logits`
 * and `bench`.
 */
export interface ModelRunner {
  readonly config: ModelConfig;
  readonly backend: Backend;
  /** Bytes of weights held by the backend. */
  readonly weightBytes: number;
  /** Bytes of weights one decode step reads: everything but the unselected experts and the unused embedding rows. */
  readonly decodeWeightBytes: number;
  /** Latent cache bytes per token: layers × (kv_lora_rank + qk_rope_head_dim) × 4. */
  readonly kvBytesPerToken: number;
  /** How the matmuls treat activations: 'f32' (exact), or the integer mode some weight type runs in ('int16'). */
  readonly activations: string;
  newSequence(capacity: number): Sequence;
  /**
   * Appends `ids` to the sequence (prefill when several, decode when one) and
   * returns the logits of the last new position [vocab], or of every new
   * position [ids.length × vocab] when `allLogits`.
   */
  forward(seq: Sequence, ids: readonly number[], options?: { allLogits?: boolean }): Promise<Float32Array>;
  /** Frees the sequence's cache; the sequence is unusable afterwards. */
  release(seq: Sequence): void;
  dispose(): void;
}
