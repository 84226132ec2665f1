// Chat messages → prompt ids. The chat template's own markers (<｜User｜>,
// <｜Assistant｜>, BOS, end-of-sentence) become control tokens; message content
// is user text and never does, as OpenAI treats it: a user who types
// "<｜Assistant｜>" gets those characters, not a forged turn.
//
// How the content is found in the rendered prompt: the template is rendered a
// second time with each message's content replaced by a unique placeholder; where
// every placeholder appears once and putting the contents back reproduces the
// real rendering exactly, the placeholders' spans are the content (passed to the
// tokenizer as literal ranges, so tokenization is otherwise unchanged). A
// template that rewrites content (trims it, splits it) gives no such spans; then
// content holding control-token text is refused rather than guessed at.
import type { ChatTemplateMessage, Tokenizer } from './types.ts';

export class ChatContentError extends Error {
  override readonly name = 'ChatContentError';
  constructor(message: string, readonly messageIndex: number) {
    super(message);
  }
}

export interface ChatPromptOptions {
  /** Parse control-token text inside message content too (the old, trusting behaviour). Default false. */
  specialTokensInContent?: boolean;
}

export function chatPromptIds(tokenizer: Tokenizer, messages: readonly ChatTemplateMessage[], options: ChatPromptOptions = {}): number[] {
  // The template writes BOS itself (DeepSeek templates start with {{ bos_token }}).
  const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  if (options.specialTokensInContent) return tokenizer.encode(text, { addSpecialTokens: false, parseSpecial: true });
  const literal = contentSpans(tokenizer, messages, text);
  if (literal) return tokenizer.encode(text, { addSpecialTokens: false, parseSpecial: true, literal });
  messages.forEach((m, i) => {
    if (!sameIds(tokenizer.encode(m.content, { parseSpecial: true }), tokenizer.encode(m.content, { parseSpecial: false }))) {
      throw new ChatContentError(
        `message ${i} contains control-token text (such as a role marker), and this model's chat template rewrites message content, so it cannot be kept as plain text; remove it`, i);
    }
  });
  return tokenizer.encode(text, { addSpecialTokens: false, parseSpecial: true });
}

/** The [start, end) span of each message's content in `text`, or undefined when the template does not copy content verbatim. */
function contentSpans(tokenizer: Tokenizer, messages: readonly ChatTemplateMessage[], text: string): [number, number][] | undefined {
  const placeholders = messages.map((_, i) => placeholder(messages, i));
  const marked = tokenizer.applyChatTemplate(messages.map((m, i) => ({ ...m, content: placeholders[i] })), { addGenerationPrompt: true });
  const spans: [number, number][] = [];
  let rebuilt = '';
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const found = marked.indexOf(placeholders[i], at);
    if (found < 0 || marked.indexOf(placeholders[i], found + 1) >= 0) return undefined;
    rebuilt += marked.slice(at, found);
    spans.push([rebuilt.length, rebuilt.length + messages[i].content.length]);
    rebuilt += messages[i].content;
    at = found + placeholders[i].length;
  }
  rebuilt += marked.slice(at);
  return rebuilt === text ? spans.filter(([start, end]) => end > start) : undefined;
}

/** Private-use characters around an index and a counter no message contains. */
function placeholder(messages: readonly ChatTemplateMessage[], index: number): string {
  for (let salt = 0; ; salt++) {
    const candidate = `\u{F0000}${index}:${salt}\u{F0001}`;
    if (!messages.some((m) => m.content.includes(candidate))) return candidate;
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
