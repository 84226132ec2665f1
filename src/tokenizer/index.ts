// The tokenizer: byte-level BPE (DeepSeek-LLM/V2/V3) over the Wasm encoder.
export type { Tokenizer, EncodeOptions, IncrementalDecoder, ChatTemplateMessage } from './types.ts';
export { loadTokenizer, tokenizerFromJson, tokenizerFromGguf, type LoadTokenizerOptions } from './load.ts';
