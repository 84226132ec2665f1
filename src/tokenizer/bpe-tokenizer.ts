// The Tokenizer (types.ts) over the Wasm BPE encoder: added tokens first,
// then native (or RegExp) pre-tokenization and BPE, BOS as the config says.
// Decoding concatenates token bytes and decodes UTF-8 with U+FFFD for
// invalid sequences, as HF's ByteLevel decoder does.
import { AddedTokenSplitter, isControl, type AddedToken, type Segment } from './added-tokens.ts';
import { ChatTemplate } from './chat-template.ts';
import type { PreTokenizerPlan } from './pre-tokenizer.ts';
import type { ChatTemplateMessage, EncodeOptions, IncrementalDecoder, Tokenizer } from './types.ts';
import type { WasmBpeEncoder } from './wasm-encoder.ts';

export interface TokenizerParts {
  /** Where it came from, for error messages. */
  readonly label: string;
  readonly encoder: WasmBpeEncoder;
  readonly preTokenizer: PreTokenizerPlan;
  /** The bytes of every id (added tokens: their UTF-8 text). */
  readonly tokenBytes: readonly Uint8Array[];
  readonly addedTokens: readonly AddedToken[];
  readonly bosId?: number;
  readonly eosId?: number;
  readonly addBos: boolean;
  readonly stopIds: readonly number[];
  readonly chatTemplate?: string;
  /** Template variables besides messages: bos_token, eos_token, ... */
  readonly templateVariables: Record<string, unknown>;
}

const utf8 = new TextEncoder();
// Long texts are encoded in chunks that end at a newline followed by a non-space
// character: both native patterns always cut there ([\r\n] is its own piece in
// deepseek-llm; no deepseek-v3 alternative runs from a newline into a non-space),
// so chunking is exact and the Wasm scratch stays bounded.
const CHUNK_UNITS = 1 << 18;

/** One char per byte (code = byte value), to run string matchers over raw bytes. */
function binaryString(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

export class BpeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly stopIds: readonly number[];
  private readonly special: Set<number>;
  private readonly splitter: AddedTokenSplitter;
  private byteSplitter: AddedTokenSplitter | undefined;
  private template: ChatTemplate | undefined;

  constructor(private readonly parts: TokenizerParts) {
    this.vocabSize = parts.tokenBytes.length;
    this.bosId = parts.bosId;
    this.eosId = parts.eosId;
    this.stopIds = parts.stopIds;
    this.special = new Set(parts.addedTokens.filter((t) => t.special).map((t) => t.id));
    this.splitter = new AddedTokenSplitter(parts.addedTokens);
  }

  /** The Wasm encoder (tests watch its memory). */
  get encoder(): WasmBpeEncoder { return this.parts.encoder; }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids = this.prefix(options);
    for (const segment of this.splitter.split(text, options.parseSpecial ?? true, options.literal)) {
      if (typeof segment === 'string') this.encodeText(segment, ids);
      else ids.push(segment.id);
    }
    return ids;
  }

  encodeBytes(bytes: Uint8Array, options: EncodeOptions = {}): number[] {
    let text: string | undefined;
    try { text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes); } catch { text = undefined; }
    if (text !== undefined) return this.encode(text, options);
    // Invalid UTF-8: added tokens are matched over the bytes (one char per byte); the rest goes to the native
    // pre-tokenizer byte for byte (invalid bytes have no class), or as one piece where there is none.
    this.byteSplitter ??= new AddedTokenSplitter(this.parts.addedTokens.map((t) => ({
      ...t, special: isControl(t), content: binaryString(utf8.encode(t.content)),
    })));
    const ids = this.prefix(options);
    let at = 0;
    for (const segment of this.byteSplitter.split(binaryString(bytes), options.parseSpecial ?? true) as Segment[]) {
      if (typeof segment !== 'string') { ids.push(segment.id); at += segment.text.length; continue; }
      const piece = bytes.subarray(at, at + segment.length);
      at += segment.length;
      if (this.parts.preTokenizer.kind === 'native') this.parts.encoder.encodeBytes(piece, ids);
      else this.parts.encoder.encodePieces([piece], ids);
    }
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(this.bytesOf(ids, options.skipSpecialTokens ?? false));
  }

  tokenBytes(id: number): Uint8Array {
    const bytes = this.parts.tokenBytes[id];
    if (bytes === undefined) throw new RangeError(`${this.parts.label}: token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    return bytes;
  }

  createDecoder(options: { skipSpecialTokens?: boolean } = {}): IncrementalDecoder {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    const skip = options.skipSpecialTokens ?? false;
    return {
      push: (id) => (skip && this.special.has(id) ? '' : decoder.decode(this.tokenBytes(id), { stream: true })),
      flush: () => decoder.decode(),
    };
  }

  applyChatTemplate(messages: readonly ChatTemplateMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.template) {
      if (!this.parts.chatTemplate) throw new Error(`${this.parts.label}: no chat_template (tokenizer_config.json or tokenizer.chat_template)`);
      this.template = new ChatTemplate(this.parts.chatTemplate, this.parts.templateVariables, this.parts.label);
    }
    return this.template.render(messages, options.addGenerationPrompt ?? false);
  }

  dispose(): void {
    this.parts.encoder.dispose();
  }

  private prefix(options: EncodeOptions): number[] {
    return options.addSpecialTokens && this.parts.addBos && this.bosId !== undefined ? [this.bosId] : [];
  }

  private encodeText(text: string, ids: number[]): void {
    const plan = this.parts.preTokenizer;
    if (plan.kind === 'native') {
      let start = 0;
      const boundary = /\n(?=\P{White_Space})/gu;
      while (text.length - start > CHUNK_UNITS) {
        boundary.lastIndex = start + CHUNK_UNITS;
        const found = boundary.exec(text);
        if (!found) break;
        this.parts.encoder.encodeString(text.slice(start, found.index + 1), ids);
        start = found.index + 1;
      }
      this.parts.encoder.encodeString(start === 0 ? text : text.slice(start), ids);
    } else this.parts.encoder.encodePieces(plan.split(text).map((piece) => utf8.encode(piece)), ids);
  }

  private bytesOf(ids: readonly number[], skipSpecial: boolean): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const id of ids) {
      if (skipSpecial && this.special.has(id)) continue;
      const bytes = this.tokenBytes(id);
      parts.push(bytes);
      total += bytes.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const bytes of parts) { out.set(bytes, at); at += bytes.length; }
    return out;
  }
}
