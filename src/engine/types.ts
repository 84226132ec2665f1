// The engine's public contract (design.md "The engine"): what `createEngine`
// returns and what `generate` yields. The server and the CLI speak only this.

export interface SamplingOptions {
  /** 0 (or undefined with no other sampler set) means greedy. Default 1. */
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  repetitionPenalty?: number;
  /** Same seed ⇒ same tokens on the same backend. */
  seed?: number;
  /** Added to the logit of each token id before sampling (OpenAI logit_bias: −100 bans, +100 all but forces). */
  logitBias?: Readonly<Record<number, number>>;
}

export interface GenerateRequest extends SamplingOptions {
  /** Either prompt text (tokenized with BOS as the tokenizer config says) or ids. */
  prompt?: string;
  promptIds?: readonly number[];
  /** Chat messages, rendered with the tokenizer's chat template. */
  messages?: readonly ChatMessage[];
  maxTokens?: number;
  /** When maxTokens is unset, generate at most min(this, context − prompt). */
  maxTokensCap?: number;
  /** Never emitted, even when split across tokens. */
  stop?: readonly string[];
  /** Number of top alternatives per token to report (0..20); logprob of the chosen token when ≥ 0. */
  topLogprobs?: number;
  logprobs?: boolean;
  signal?: AbortSignal;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Prompt tokens served from the prefix cache (OpenAI's prompt_tokens_details.cached_tokens). */
  cachedTokens?: number;
}

export interface TokenLogprob {
  token: string;
  id: number;
  logprob: number;
  bytes: number[];
}

/** One generated token: `text` holds only whole UTF-8 characters (possibly ""). */
export interface TokenEvent {
  type: 'token';
  id: number;
  text: string;
  logprob?: TokenLogprob & { top: TokenLogprob[] };
}

export interface FinishEvent {
  type: 'finish';
  reason: FinishReason;
  usage: Usage;
  /** Text held back while it could have been the start of a stop string, released at the end. */
  text: string;
}

export type GenerateEvent = TokenEvent | FinishEvent;

export interface ModelInfo {
  id: string;
  contextLength: number;
  vocabSize: number;
  backend: 'cpu' | 'webgpu';
  /** cpu: the threads the kernels run on (in a page: Web Workers when it is cross-origin isolated, else 1). */
  threads?: number;
  /** How matmuls treat activations: 'f32' (exact) or the integer mode of the quantized weights ('int16'). */
  activations: string;
  /** CPU backend: the kernel build that runs, 'relaxed' or 'plain' SIMD. */
  kernels?: string;
}

/** Where the engine stands: its requests and its latent-cache blocks (GET /health). */
export interface EngineLoad {
  /** Requests admitted: holding latent-cache blocks, prefilling or decoding. */
  running: number;
  /** Requests waiting for cache blocks. */
  waiting: number;
  /** Sequences preempted since the engine started (cache freed when blocks ran out, recomputed later). */
  preemptions: number;
  /** Blocks held by running requests, and their bytes (0 when no request is active). */
  cacheBlocksInUse: number;
  cacheBytesInUse: number;
  /** Free blocks still holding a reusable prompt prefix, and their bytes. */
  prefixCacheBlocks: number;
  prefixCacheBytes: number;
  /** The cache budget in blocks, positions per block, bytes per position. */
  cacheBlocks: number;
  blockTokens: number;
  kvBytesPerToken: number;
}

export interface Engine {
  readonly model: ModelInfo;
  generate(request: GenerateRequest): AsyncIterable<GenerateEvent>;
  /** Bytes of latent cache held by running requests (0 when idle; cached prefix blocks are in load()). */
  readonly cacheBytesInUse: number;
  /** The most latent-cache bytes the engine holds (its blocks, prefix cache included). */
  readonly cacheBudgetBytes: number;
  /** Requests waiting for cache blocks. */
  readonly queued: number;
  load(): EngineLoad;
  dispose(): Promise<void>;
}
