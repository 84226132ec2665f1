// SSE writes: tokens the engine makes within 2 ms of the client's last read
// share one write (cheap tokens would otherwise pay a write each), a slow
// token goes out on its own at once, and every token is still its own
// `data:` chunk inside the write.
import { describe, expect, it } from 'vitest';
import type { Engine, GenerateEvent, GenerateRequest } from '../../src/engine/types.ts';
import { completionDialect, respond } from '../../src/server/respond.ts';

/** An engine that yields `count` one-character tokens, each after `delayMs` of busy work. */
function fakeEngine(count: number, delayMs: number): Engine {
  return {
    generate(_request: GenerateRequest): AsyncIterable<GenerateEvent> {
      return (async function* () {
        for (let i = 0; i < count; i++) {
          const until = performance.now() + delayMs;
          while (performance.now() < until) { /* a forward step */ }
          yield { type: 'token', id: i, text: String.fromCharCode(97 + (i % 26)) };
        }
        yield { type: 'finish', reason: 'length', text: '', usage: { promptTokens: 1, completionTokens: count, totalTokens: count + 1 } };
      })();
    },
  } as unknown as Engine;
}

/** The body's writes, each as the list of its `data:` payloads. */
async function writes(engine: Engine, coalesceMs: number): Promise<string[][]> {
  const response = await respond(engine, {} as GenerateRequest, completionDialect, {
    stream: true, includeUsage: false, modelId: 'm', abort: new AbortController(), stallTimeoutMs: 60_000, coalesceMs,
  });
  const reader = response.body!.getReader();
  const out: string[][] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    out.push(new TextDecoder().decode(r.value).split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, '')));
  }
  return out;
}

const textOf = (frames: string[][]) => frames.flat().filter((f) => f !== '[DONE]').map((f) => JSON.parse(f).choices[0].text).join('');

describe('SSE write coalescing', () => {
  it('tokens made in microseconds share writes; each is still its own chunk, in order', async () => {
    // A window far longer than 200 instant tokens take, however loaded the machine: the grouping is what is tested.
    const frames = await writes(fakeEngine(200, 0), 1000);
    expect(textOf(frames)).toBe(Array.from({ length: 200 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
    expect(frames.flat().filter((f) => f !== '[DONE]')).toHaveLength(201); // 200 tokens + the finish chunk
    expect(frames.length, `${frames.length} writes for 200 tokens`).toBeLessThan(50);
  });

  it('a token that takes longer than the window is written on its own, without waiting for the next', async () => {
    // Each token's busy work (4 ms of wall time) outlasts the 2 ms window however fast the machine is.
    const frames = await writes(fakeEngine(6, 4), 2);
    // The first token answers with the headers; then one write per token, the last one with the finish chunk and [DONE].
    expect(frames.slice(1, -1).every((w) => w.length === 1), JSON.stringify(frames)).toBe(true);
    expect(textOf(frames)).toBe('abcdef');
  });
});
