// Loading a tokenizer: from tokenizer.json (+ tokenizer_config.json), from a
// model source (a directory holding them, or a .gguf with tokenizer.ggml.*
// metadata). Everything reduces to one description — token bytes, merges,
// added tokens, pre-tokenizer — handed to the Wasm encoder.
import { readGguf } from '../model/gguf.ts';
import { findGguf } from '../model/model-files.ts';
import { readText, type ModelSource } from '../model/source.ts';
import type { AddedToken } from './added-tokens.ts';
import { BpeTokenizer } from './bpe-tokenizer.ts';
import { BYTE_TO_CHAR, byteLevelToBytes } from './byte-level.ts';
import { planPreTokenizer } from './pre-tokenizer.ts';
import { GGUF_PRE_TOKENIZERS } from './pretokenizer-configs.ts';
import type { Tokenizer } from './types.ts';
import { classTable } from './unicode-classes.ts';
import { WasmBpeEncoder } from './wasm-encoder.ts';

export interface LoadTokenizerOptions {
  /** The compiled edgeseek.wasm (Workers pass their imported module); Node/Deno read build/ when absent. */
  module?: WebAssembly.Module;
  /** Use the JS RegExp pre-tokenizer even where a native one exists (tests). */
  forceRegexPreTokenizer?: boolean;
  /** For error messages. */
  label?: string;
}

interface Description {
  label: string;
  vocab: Map<string, number>;      // byte-level token text → id (model vocabulary)
  added: AddedToken[];
  merges: [string, string][];
  preTokenizer: unknown;
  bosToken?: string;
  eosToken?: string;
  addBos: boolean;
  chatTemplate?: string;
}

const utf8 = new TextEncoder();
const EXTRA_STOP_TOKENS = ['<|EOT|>', '<｜EOT｜>', '<｜end▁of▁sentence｜>'];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const tokenContent = (token: unknown): string | undefined =>
  typeof token === 'string' ? token : (token as { content?: string } | null)?.content;

export async function tokenizerFromJson(tokenizerJson: string | object, tokenizerConfigJson?: string | object, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const label = options.label ?? 'tokenizer.json';
  const json: Json = typeof tokenizerJson === 'string' ? JSON.parse(tokenizerJson) : tokenizerJson;
  const config: Json = (typeof tokenizerConfigJson === 'string' ? JSON.parse(tokenizerConfigJson) : tokenizerConfigJson) ?? {};
  const model = json.model as Json | undefined;
  if (!model || model.type !== 'BPE') throw new Error(`${label}: model.type ${JSON.stringify(model?.type)} is not supported (byte-level BPE)`);
  if (json.normalizer && !(json.normalizer.type === 'Sequence' && json.normalizer.normalizers.length === 0)) {
    throw new Error(`${label}: normalizer ${JSON.stringify(json.normalizer.type)} is not supported (none)`);
  }
  const merges = (model.merges as (string | [string, string])[]).map((m): [string, string] => {
    if (Array.isArray(m)) return m;
    const space = m.indexOf(' ', 1);
    return [m.slice(0, space), m.slice(space + 1)];
  });
  const postSingle = json.post_processor?.single as Json[] | undefined;
  return build({
    label,
    vocab: new Map(Object.entries(model.vocab as Record<string, number>)),
    added: (json.added_tokens as Json[] ?? []).map((t) => ({ id: t.id, content: t.content, special: t.special ?? false, lstrip: t.lstrip, rstrip: t.rstrip })),
    merges,
    preTokenizer: json.pre_tokenizer,
    // Without tokenizer_config.json, BOS is the special token the post-processor puts first.
    bosToken: tokenContent(config.bos_token) ?? (postSingle?.[0]?.SpecialToken?.id as string | undefined),
    eosToken: tokenContent(config.eos_token),
    addBos: config.add_bos_token ?? Boolean(postSingle?.some((p) => p.SpecialToken)),
    chatTemplate: typeof config.chat_template === 'string' ? config.chat_template : undefined,
  }, options);
}

/** A tokenizer from a model source: tokenizer.json (+ tokenizer_config.json), or the metadata of its .gguf. */
export async function loadTokenizer(source: ModelSource, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  if (await source.has('tokenizer.json')) {
    const config = (await source.has('tokenizer_config.json')) ? await readText(source, 'tokenizer_config.json') : undefined;
    return tokenizerFromJson(await readText(source, 'tokenizer.json'), config, { label: `${source.label}/tokenizer.json`, ...options });
  }
  const gguf = await findGguf(source);
  if (!gguf) throw new Error(`${source.label}: no tokenizer.json and no .gguf file to read a tokenizer from`);
  return tokenizerFromGguf(source, gguf, options);
}

export async function tokenizerFromGguf(source: ModelSource, file: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const label = options.label ?? `${source.label === file ? file : `${source.label}/${file}`}`;
  const meta = (await readGguf(source, file)).metadata;
  const kind = meta['tokenizer.ggml.model'];
  if (kind !== 'gpt2') throw new Error(`${label}: tokenizer.ggml.model ${JSON.stringify(kind)} is not supported (gpt2: byte-level BPE)`);
  const tokens = meta['tokenizer.ggml.tokens'] as string[] | undefined;
  const merges = meta['tokenizer.ggml.merges'] as string[] | undefined;
  if (!tokens || !merges) throw new Error(`${label}: tokenizer.ggml.tokens / tokenizer.ggml.merges missing`);
  const types = (meta['tokenizer.ggml.token_type'] as number[] | undefined) ?? [];
  const pre = String(meta['tokenizer.ggml.pre'] ?? 'default');
  const preTokenizer = GGUF_PRE_TOKENIZERS[pre];
  if (!preTokenizer) throw new Error(`${label}: tokenizer.ggml.pre ${JSON.stringify(pre)} is not supported (${Object.keys(GGUF_PRE_TOKENIZERS).join(', ')})`);
  const vocab = new Map<string, number>();
  const added: AddedToken[] = [];
  tokens.forEach((text, id) => {
    // DeepSeek-LLM's user-defined tokens reuse the ids of bytes that never occur in UTF-8 (À, Á, õ…ÿ):
    // they stay in the byte vocabulary for merges and match their own text as added tokens.
    if (types[id] === 3 || types[id] === 4) added.push({ id, content: text, special: types[id] === 3 });
    if (types[id] !== 3 || !vocab.has(text)) vocab.set(text, id);
  });
  const idOf = (key: string) => (typeof meta[key] === 'number' ? tokens[meta[key] as number] : undefined);
  return build({
    label,
    vocab,
    added,
    merges: merges.map((m): [string, string] => { const s = m.indexOf(' ', 1); return [m.slice(0, s), m.slice(s + 1)]; }),
    preTokenizer,
    bosToken: idOf('tokenizer.ggml.bos_token_id'),
    eosToken: idOf('tokenizer.ggml.eos_token_id'),
    addBos: (meta['tokenizer.ggml.add_bos_token'] as boolean | undefined) ?? true,
    chatTemplate: meta['tokenizer.chat_template'] as string | undefined,
  }, options);
}

async function build(d: Description, options: LoadTokenizerOptions): Promise<Tokenizer> {
  let size = 0;
  for (const id of d.vocab.values()) size = Math.max(size, id + 1);
  for (const t of d.added) size = Math.max(size, t.id + 1);
  const tokenBytes: Uint8Array[] = new Array(size).fill(new Uint8Array(0));
  for (const [text, id] of d.vocab) tokenBytes[id] = byteLevelToBytes(text) ?? utf8.encode(text);
  const ids = new Map<string, number>(d.vocab);
  for (const t of d.added) { tokenBytes[t.id] = utf8.encode(t.content); ids.set(t.content, t.id); }

  const byteIds = new Uint32Array(256);
  BYTE_TO_CHAR.forEach((char, b) => {
    const id = d.vocab.get(char);
    if (id === undefined) throw new Error(`${d.label}: the vocabulary has no token for byte 0x${b.toString(16)} (${JSON.stringify(char)}) — not a byte-level BPE vocabulary`);
    byteIds[b] = id;
  });
  const triples = new Uint32Array(d.merges.length * 3);
  d.merges.forEach(([a, b], rank) => {
    const left = d.vocab.get(a), right = d.vocab.get(b), result = d.vocab.get(a + b);
    if (left === undefined || right === undefined || result === undefined) {
      throw new Error(`${d.label}: merge ${rank} ${JSON.stringify(`${a} ${b}`)} names a token missing from the vocabulary`);
    }
    triples.set([left, right, result], rank * 3);
  });

  const plan = planPreTokenizer(d.preTokenizer, { forceRegex: options.forceRegexPreTokenizer });
  const module = options.module ?? await (await import('../backend/cpu/wasm-module-node.ts')).loadWasmModuleFromDisk();
  const encoder = await WasmBpeEncoder.create(module, {
    byteIds,
    merges: triples,
    pattern: plan.kind === 'native' ? plan.pattern : 0,
    classes: plan.kind === 'native' ? classTable(plan.classes) : undefined,
  });
  const bosId = d.bosToken !== undefined ? ids.get(d.bosToken) : undefined;
  const eosId = d.eosToken !== undefined ? ids.get(d.eosToken) : undefined;
  const stopIds = [...new Set([eosId, ...EXTRA_STOP_TOKENS.map((t) => ids.get(t))].filter((id): id is number => id !== undefined))];
  return new BpeTokenizer({
    label: d.label,
    encoder,
    preTokenizer: plan,
    tokenBytes,
    addedTokens: d.added,
    bosId,
    eosId,
    addBos: d.addBos,
    stopIds,
    chatTemplate: d.chatTemplate,
    templateVariables: { bos_token: d.bosToken ?? '', eos_token: d.eosToken ?? '' },
  });
}
