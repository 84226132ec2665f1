// Reads a tokenizer.json `pre_tokenizer` block. The DeepSeek sequences
// (deepseek-llm, deepseek-v3) run natively in Wasm (assembly/tokenizer/
// pretokenize.ts) with their character classes taken from the file itself;
// anything else runs through JS RegExp with the `u` flag, applied exactly as
// HF applies a Sequence (each step over each piece of the previous one).

export const PATTERN_DEEPSEEK_LLM = 1;
export const PATTERN_DEEPSEEK_V3 = 2;

export type PreTokenizerPlan =
  | { kind: 'native'; pattern: number; classes: string[] }
  | { kind: 'regex'; split: (text: string) => string[] };

interface Step { type?: string; pattern?: { Regex?: string; String?: string }; behavior?: string; invert?: boolean;
  use_regex?: boolean; add_prefix_space?: boolean; individual_digits?: boolean; pretokenizers?: Step[] }

const V3_MAIN = '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+';
const GPT2_SPLIT = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const ONE_CLASS = /^\[(?:[^\\\][]|\\.)*\]$/s;

function steps(config: Step | null | undefined): Step[] {
  if (!config) return [];
  return config.type === 'Sequence' ? (config.pretokenizers ?? []).flatMap(steps) : [config];
}

function isolatedRegex(step: Step): string | undefined {
  if (step.type !== 'Split' || step.behavior !== 'Isolated' || step.invert) return undefined;
  return step.pattern?.Regex;
}

/** `[...]+` → `[...]`, `\s?[...]+` → `[...]` (with prefix), or undefined. */
function classOf(regex: string | undefined, prefix: string): string | undefined {
  if (regex === undefined || !regex.startsWith(prefix) || !regex.endsWith('+')) return undefined;
  const body = regex.slice(prefix.length, -1);
  if (!ONE_CLASS.test(body)) return undefined;
  try { new RegExp(body, 'u'); } catch { return undefined; }
  return body;
}

function nativePlan(all: Step[]): PreTokenizerPlan | undefined {
  const last = all[all.length - 1];
  if (!last || last.type !== 'ByteLevel' || last.use_regex || last.add_prefix_space) return undefined;
  const r = all.slice(0, -1).map(isolatedRegex);
  if (r.length === 6 && r[0] === '[\r\n]' && r[3] === '\\s+$' && r[5] === '\\p{N}+') {
    const classes = [classOf(r[1], '\\s?'), classOf(r[2], '\\s?'), classOf(r[4], '')];
    if (classes.every((c) => c !== undefined)) return { kind: 'native', pattern: PATTERN_DEEPSEEK_LLM, classes: classes as string[] };
  }
  if (r.length === 3 && r[0] === '\\p{N}{1,3}' && r[2] === V3_MAIN) {
    const cjk = classOf(r[1], '');
    if (cjk !== undefined) return { kind: 'native', pattern: PATTERN_DEEPSEEK_V3, classes: [cjk] };
  }
  return undefined;
}

/** Onig → JS as @huggingface/tokenizers does for the escapes that matter here: \s and \S are White_Space. */
function toJsRegex(regex: string): RegExp {
  const source = regex.replace(/\\\\|\\s|\\S/g, (m) => (m === '\\s' ? '\\p{White_Space}' : m === '\\S' ? '\\P{White_Space}' : m));
  try { return new RegExp(source, 'gu'); } catch (error) {
    throw new Error(`tokenizer.json pre_tokenizer: regex ${JSON.stringify(regex)} is not supported (${(error as Error).message})`);
  }
}

function splitIsolated(text: string, regex: RegExp): string[] {
  const out: string[] = [];
  let previous = 0;
  for (const match of text.matchAll(regex)) {
    if (match[0].length === 0) continue;
    if (match.index > previous) out.push(text.slice(previous, match.index));
    out.push(match[0]);
    previous = match.index + match[0].length;
  }
  if (previous < text.length) out.push(text.slice(previous));
  return out;
}

function stepSplitter(step: Step): (piece: string) => string[] {
  if (step.type === 'Split') {
    const source = step.pattern?.Regex ?? step.pattern?.String?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (source === undefined) throw new Error('tokenizer.json pre_tokenizer: Split without a pattern');
    const regex = toJsRegex(source);
    if (step.invert) return (piece) => [...piece.matchAll(regex)].map((m) => m[0]).filter((m) => m.length > 0);
    if (step.behavior === 'Isolated') return (piece) => splitIsolated(piece, regex);
    if (step.behavior === 'Removed') return (piece) => piece.split(regex).filter((m) => m.length > 0);
    throw new Error(`tokenizer.json pre_tokenizer: Split behavior ${String(step.behavior)} is not supported (Isolated, Removed)`);
  }
  if (step.type === 'ByteLevel') {
    if (step.add_prefix_space) throw new Error('tokenizer.json pre_tokenizer: ByteLevel add_prefix_space is not supported');
    const regex = toJsRegex(GPT2_SPLIT);
    return step.use_regex === false ? (piece) => [piece] : (piece) => splitIsolated(piece, regex);
  }
  if (step.type === 'Digits') {
    const regex = new RegExp(step.individual_digits ? '\\p{N}' : '\\p{N}+', 'gu');
    return (piece) => splitIsolated(piece, regex);
  }
  throw new Error(`tokenizer.json pre_tokenizer: type ${String(step.type)} is not supported (Sequence, Split, ByteLevel, Digits)`);
}

/** The JS RegExp pre-tokenizer: correct for every supported step, slower than the native scanners. */
export function regexPlan(config: unknown): PreTokenizerPlan {
  const splitters = steps(config as Step).map(stepSplitter);
  return {
    kind: 'regex',
    split: (text) => splitters.reduce<string[]>((pieces, split) => pieces.flatMap(split), [text]),
  };
}

export function planPreTokenizer(config: unknown, options: { forceRegex?: boolean } = {}): PreTokenizerPlan {
  const native = options.forceRegex ? undefined : nativePlan(steps(config as Step));
  return native ?? regexPlan(config);
}
