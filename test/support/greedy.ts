import type { ModelRunner } from '../../src/engine/runner-types.ts';
import { argmax } from './logits.ts';

/** Prefill `prompt`, then decode `count` tokens one at a time by argmax. */
export async function greedyContinuation(runner: ModelRunner, prompt: number[], count: number): Promise<number[]> {
  const seq = runner.newSequence(prompt.length + count);
  try {
    let logits = await runner.forward(seq, prompt);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const next = argmax(logits);
      out.push(next);
      if (i + 1 < count) logits = await runner.forward(seq, [next]);
    }
    return out;
  } finally {
    runner.release(seq);
  }
}
