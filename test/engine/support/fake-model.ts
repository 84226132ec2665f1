// TEST-ONLY doubles for the engine's unit tests: a "model" whose logits are a
// pure function of (previous token, position), and a tokenizer whose tokens
// are fixed byte strings — some of them halves of multi-byte characters — so
// sampler, stop-string and scheduler behaviour can be checked exactly and
// fast. The integration tests (test/server) use the real model and tokenizer.
import type { Backend } from '../../../src/backend/backend.ts';
import type { ModelConfig } from '../../../src/model/config.ts';
import { BlockPool } from '../../../src/engine/block-pool.ts';
import type { ModelRunner, Sequence, StepRows } from '../../../src/engine/runner-types.ts';
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
 * Logits of each row that asks for them favour `script[k]` when a script is
 * given, k counting the logit rows of that row's sequence so far (a sequence
 * is known by its first block), so a test can make the model "say" an exact
 * token sequence; otherwise a deterministic pseudo-random spread depending on
 * (row's token, position). Rows are independent, as in the real model.
 */
export class FakeRunner implements ModelRunner {
  readonly config: ModelConfig;
  readonly backend = { name: 'cpu' } as unknown as Backend;
  readonly weightBytes = 0;
  readonly decodeWeightBytes = 0;
  readonly kvBytesPerToken = 25;
  readonly activations = 'f32';
  readonly blockSize = 4;
  readonly blocks = new BlockPool(1024);
  steps = 0;
  /** Rows of every step so far. */
  readonly rowsPerStep: number[] = [];
  /** Milliseconds each step takes (a real await, so other requests can interleave). */
  delayMs = 0;
  /** A clock each step advances by stepCost(rows) (a scheduler can be timed with it instead of real time). */
  clock = 0;
  stepCost = (rows: number): number => 10 + 2 * rows;
  private readonly scriptAt = new Map<number, number>();

  constructor(private readonly script?: readonly number[], contextLength = 64) {
    this.config = { vocabSize: FAKE_VOCAB.length, maxPositionEmbeddings: contextLength } as ModelConfig;
  }

  get cacheBudgetBytes(): number { return this.blocks.capacity * this.blockSize * this.kvBytesPerToken; }

  setCacheBudget(bytes: number): void {
    this.blocks.setCapacity(Math.max(1, Math.floor(bytes / (this.blockSize * this.kvBytesPerToken))));
  }

  async step(rows: StepRows): Promise<Float32Array> {
    this.steps++;
    this.rowsPerStep.push(rows.ids.length);
    this.clock += this.stepCost(rows.ids.length);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const V = this.config.vocabSize;
    const out = new Float32Array(rows.logitRows.length * V);
    // A row at position 0 starts its sequence: its script starts over.
    rows.positions.forEach((p, row) => { if (p === 0) this.scriptAt.delete(rows.blocks[rows.tableStart[row]]); });
    rows.logitRows.forEach((row, r) => {
      const logits = out.subarray(r * V, (r + 1) * V);
      const position = rows.positions[row];
      if (this.script) {
        const first = rows.blocks[rows.tableStart[row]];
        const k = this.scriptAt.get(first) ?? 0;
        this.scriptAt.set(first, k + 1);
        logits.fill(-10);
        logits[this.script[Math.min(k, this.script.length - 1)]] = 10;
        return;
      }
      const last = rows.ids[row];
      for (let i = 0; i < V; i++) logits[i] = Math.sin(i * 12.9898 + last * 78.233 + (position + 1) * 3.1) * 3;
      logits[0] = -20; // never EOS by chance
    });
    return out;
  }

  newSequence(): Sequence { throw new Error('FakeRunner: the engine uses step()'); }
  forward(): Promise<Float32Array> { throw new Error('FakeRunner: the engine uses step()'); }
  release(): void {}
  dispose(): void {}
}
