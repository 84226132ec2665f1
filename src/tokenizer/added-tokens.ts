// Added tokens (special and not) are found in the text before
// pre-tokenization, leftmost-longest like HF's AddedVocabulary. Control
// tokens — special ones, and those that look special (<｜…｜>, <|…|>, as
// llama.cpp's converter decides; DeepSeek-V3 marks <｜User｜> non-special) —
// are left unmatched for untrusted text (parseSpecial: false); other added
// tokens are always matched.

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly lstrip?: boolean;
  readonly rstrip?: boolean;
}

/** Special, or shaped like a control token (llama.cpp convert_hf_to_gguf does_token_look_special). */
export function isControl(token: AddedToken): boolean {
  const c = token.content;
  return token.special || (c.startsWith('<|') && c.endsWith('|>')) || (c.startsWith('<｜') && c.endsWith('｜>'))
    || (c.startsWith('<unused') && c.endsWith('>')) || ['<pad>', '<mask>'].includes(c);
}

/** A text segment to encode, or a matched added token (text: what it matched, stripped whitespace included). */
export type Segment = string | { readonly id: number; readonly text: string };

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function matcher(tokens: readonly AddedToken[]): { regex: RegExp; ids: Map<string, number>; stripped: AddedToken[] } | undefined {
  const usable = tokens.filter((t) => t.content.length > 0);
  if (usable.length === 0) return undefined;
  const sorted = [...usable].sort((a, b) => b.content.length - a.content.length);
  const source = sorted.map((t) => `${t.lstrip ? '\\s*' : ''}${escape(t.content)}${t.rstrip ? '\\s*' : ''}`).join('|');
  return {
    regex: new RegExp(source, 'g'),
    ids: new Map(usable.map((t) => [t.content, t.id])),
    stripped: sorted.filter((t) => t.lstrip || t.rstrip),
  };
}

export class AddedTokenSplitter {
  private readonly all;
  private readonly plain;

  constructor(tokens: readonly AddedToken[]) {
    this.all = matcher(tokens);
    this.plain = matcher(tokens.filter((t) => !isControl(t)));
  }

  /**
   * Segments of `text`. With `literal` ranges (and parseSpecial), control tokens
   * are matched only outside them; adjacent text segments are joined, so the
   * text encodes exactly as it would without ranges when they hold no control token.
   */
  split(text: string, parseSpecial: boolean, literal?: readonly (readonly [number, number])[]): Segment[] {
    if (!parseSpecial || !literal?.length) return this.splitRun(text, parseSpecial);
    const out: Segment[] = [];
    const push = (segments: Segment[]) => {
      for (const segment of segments) {
        const last = out.length - 1;
        if (typeof segment === 'string' && typeof out[last] === 'string') out[last] += segment;
        else out.push(segment);
      }
    };
    let at = 0;
    for (const [start, end] of literal) {
      if (start < at || end < start || end > text.length) throw new RangeError(`literal range [${start}, ${end}) is not sorted, disjoint and inside the text (${text.length})`);
      if (start > at) push(this.splitRun(text.slice(at, start), true));
      if (end > start) push(this.splitRun(text.slice(start, end), false));
      at = end;
    }
    if (at < text.length) push(this.splitRun(text.slice(at), true));
    return out;
  }

  private splitRun(text: string, parseSpecial: boolean): Segment[] {
    const m = parseSpecial ? this.all : this.plain;
    if (!m) return [text];
    const out: Segment[] = [];
    let previous = 0;
    for (const match of text.matchAll(m.regex)) {
      if (match.index > previous) out.push(text.slice(previous, match.index));
      out.push({ id: m.ids.get(match[0]) ?? this.strippedId(m.stripped, match[0]), text: match[0] });
      previous = match.index + match[0].length;
    }
    if (previous < text.length) out.push(text.slice(previous));
    return out;
  }

  private strippedId(stripped: readonly AddedToken[], found: string): number {
    const token = stripped.find((t) => found.trim() === t.content || found.trimStart() === t.content || found.trimEnd() === t.content);
    if (!token) throw new Error(`tokenizer: matched added token ${JSON.stringify(found)} has no id`);
    return token.id;
  }
}
