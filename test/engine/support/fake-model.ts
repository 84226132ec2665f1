// TEST-ONLY doubles for the engine's unit tests: a "model" whose logits are a
// pure function of (previous token, position), and a tokenizer whose tokens
// are fixed byte strings — some of them halves of multi-byte characters — so
// sampler, stop-string and scheduler behaviour can be checked exactly and
// fast. The integration tests (test/server) use the real model and tokenizer.
import type { Backend } from '../../../src/backend/backend.ts';
import type { ModelConfig } from '../../../src/model/config.ts';
import type { ModelRunner, Sequence } from '../../../src/engine/runner-types.ts';
import type { IncrementalDecoder, Tokenizer } from '../../../src/tokenizer/types.ts';

const enc = new TextEncoder();
const bytesOf = (...parts: (string | number[])[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : p)));

/** id → bytes. 0 = EOS; "中" (e4 b8 ad) split over ids 10/11; "😀" (f0 9f 98 80) over 12/13. */
export const FAKE_VOCAB: Uint8Array[] = (() => {
  const vocab: Uint8Array[] = [bytesOf('</s>'), bytesOf('<s>')];
  const words = ['a', 'b', 'c', ' ', 'S', 'T', 'O', 'P'];
  for (const w of words) vocab.push(bytesOf(w)); // ids 2..9
  vocab.push(bytesOf([0xe4, 0xb8]), bytesOf([0xad]), bytesOf([0xf0, 0x9f]), bytesOf([0x98, 0x80])); // 10..13
  while (vocab.length < 64) vocab.push(bytesOf(`w${vocab.length}`));
  return vocab;
})();

export class FakeTokenizer implements Tokenizer {
  readonly vocabSize = FAKE_VOCAB.length;
  readonly bosId = 1;
  readonly eosId = 0;
  readonly stopIds = [0];
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    // One token per character, characters not in the vocabulary map to 'a'.
    const ids = [...text].map((ch) => Math.max(2, FAKE_VOCAB.findIndex((b, i) => i >= 2 && new TextDecoder().decode(b) === ch)));
    return options.addSpecialTokens ? [1, ...ids] : ids;
  }
  encodeBytes(bytes: Uint8Array, options?: { addSpecialTokens?: boolean }): number[] { return this.encode(new TextDecoder().decode(bytes), options); }
  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(bytesOf(...ids.filter((id) => id > 1).map((id) => [...FAKE_VOCAB[id]])));
  }
  tokenBytes(id: number): Uint8Array { return FAKE_VOCAB[id]; }
  createDecoder(): IncrementalDecoder {
    const decoder = new TextDecoder('utf-8', { fatal: false });
    return {
      push: (id) => (id <= 1 ? '' : decoder.decode(FAKE_VOCAB[id], { stream: true })),
      flush: () => decoder.decode(),
    };
  }
  applyChatTemplate(messages: readonly { role: string; content: string }[]): string {
    return messages.map((m) => m.content).join(' ');
  }
  dispose(): void {}
}

/**
 * Logits favour `script[position]` when a script is given (so a test can make
 * the model "say" an exact token sequence), otherwise a deterministic
 * pseudo-random spread depending on (last id, position).
 */
export class FakeRunner implements ModelRunner {
  readonly config: ModelConfig;
  readonly backend = { name: 'cpu' } as unknown as Backend;
  readonly weightBytes = 0;
  readonly decodeWeightBytes = 0;
  readonly kvBytesPerToken = 100;
  readonly activations = 'f32';
  live = 0;
  forwards = 0;
  /** Milliseconds each forward takes (a real await, so other requests can interleave). */
  delayMs = 0;

  constructor(private readonly script?: readonly number[], contextLength = 64) {
    this.config = { vocabSize: FAKE_VOCAB.length, maxPositionEmbeddings: contextLength } as ModelConfig;
  }

  newSequence(capacity: number): Sequence & { length: number; promptLength?: number } {
    this.live++;
    return { length: 0, capacity, cacheBytes: capacity * this.kvBytesPerToken };
  }

  async forward(sequence: Sequence, ids: readonly number[]): Promise<Float32Array> {
    const seq = sequence as Sequence & { length: number; promptLength?: number };
    if (seq.length + ids.length > seq.capacity) throw new RangeError('past capacity');
    this.forwards++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    seq.promptLength ??= ids.length;
    seq.length += ids.length;
    const V = this.config.vocabSize;
    const logits = new Float32Array(V);
    const step = seq.length - seq.promptLength;
    const last = ids[ids.length - 1];
    if (this.script) {
      logits.fill(-10);
      logits[this.script[Math.min(step, this.script.length - 1)]] = 10;
      return logits;
    }
    for (let i = 0; i < V; i++) logits[i] = Math.sin(i * 12.9898 + last * 78.233 + seq.length * 3.1) * 3;
    logits[0] = -20; // never EOS by chance
    return logits;
  }

  release(): void { this.live--; }
  dispose(): void {}
}
