// The tokenizer's contract for the engine, the server and the CLI.

export interface EncodeOptions {
  /** Prepend BOS as the tokenizer config says (add_bos_token). Default false. */
  addSpecialTokens?: boolean;
  /** Match added/special tokens in the text (trusted input). Default true. */
  parseSpecial?: boolean;
  /**
   * With parseSpecial: sorted, disjoint [start, end) UTF-16 ranges of `text`
   * (untrusted parts, e.g. chat message content) where control tokens are not
   * matched. Text on both sides of a range boundary still merges as usual.
   */
  literal?: readonly (readonly [number, number])[];
}

/** Streaming detokenizer: never emits a partial UTF-8 character, never emits anything twice. */
export interface IncrementalDecoder {
  /** Text completed by this token ("" while a character is still incomplete). */
  push(id: number): string;
  /** Whatever is left at the end (incomplete bytes become U+FFFD). */
  flush(): string;
}

export interface ChatTemplateMessage {
  role: string;
  content: string;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** Ids that end generation (EOS and chat end-of-turn tokens). */
  readonly stopIds: readonly number[];
  encode(text: string, options?: EncodeOptions): number[];
  /** Encodes raw bytes (invalid UTF-8 allowed: it is byte-level BPE). */
  encodeBytes(bytes: Uint8Array, options?: EncodeOptions): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The raw bytes a token stands for (special tokens: their UTF-8 text). */
  tokenBytes(id: number): Uint8Array;
  createDecoder(options?: { skipSpecialTokens?: boolean }): IncrementalDecoder;
  /** Renders tokenizer_config.json's chat_template; a clear error when there is none or it fails. */
  applyChatTemplate(messages: readonly ChatTemplateMessage[], options?: { addGenerationPrompt?: boolean }): string;
  /** Frees the Wasm memory it holds. */
  dispose(): void;
}
