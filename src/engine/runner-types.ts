import type { Backend } from '../backend/backend.ts';
import type { ModelConfig } from '../model/config.ts';
import type { BlockPool } from './block-pool.ts';
import type { StepRows } from './forward.ts';

export type { StepRows };

/** One sequence run on its own (newSequence / forward): its blocks are taken when it is made. */
export interface Sequence {
  /** Tokens already in the cache. */
  readonly length: number;
  /** Positions the cache can hold. */
  readonly capacity: number;
  /** Bytes of latent cache held for it. */
  readonly cacheBytes: number;
}

/**
 * A loaded model on a backend: the forward pass over the paged latent cache.
 * The engine (scheduler, generation) drives `step` with rows of many
 * sequences and their block tables; the CLI's `logits` and `bench` and the
 * tests use the one-sequence helpers, which are a batch of one.
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
  /** Positions per latent-cache block. */
  readonly blockSize: number;
  /** The latent-cache blocks: ids, holders and cached prefixes; its capacity is the cache budget. */
  readonly blocks: BlockPool;
  /** The cache budget in bytes (blocks.capacity whole blocks). */
  readonly cacheBudgetBytes: number;
  /** Sets the cache budget (rounded down to whole blocks, at least one); only while no block is held. */
  setCacheBudget(bytes: number): void;
  /**
   * One forward step over rows of any sequences (decode rows and prefill
   * chunks): writes each row's latent rows into its sequence's blocks and
   * returns the logits of rows.logitRows, [logitRows.length × vocab] in that order.
   */
  step(rows: StepRows): Promise<Float32Array>;
  /** A sequence holding blocks for `capacity` positions (throws when the cache budget has too few free). */
  newSequence(capacity: number): Sequence;
  /**
   * Appends `ids` to the sequence (prefill when several, decode when one) and
   * returns the logits of the last new position [vocab], or of every new
   * position [ids.length × vocab] when `allLogits`.
   */
  forward(seq: Sequence, ids: readonly number[], options?: { allLogits?: boolean }): Promise<Float32Array>;
  /** Frees the sequence's blocks; the sequence is unusable afterwards. */
  release(seq: Sequence): void;
  dispose(): void;
}
