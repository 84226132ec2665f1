// Steady-state encoding must not grow Wasm memory: tables and scratch are
// allocated at load, and the scratch only grows for a longer text.
import { describe, expect, it } from 'vitest';
import type { BpeTokenizer } from '../../src/tokenizer/bpe-tokenizer.ts';
import { corpus, loadV3 } from './support.ts';

describe('Wasm memory', () => {
  it('does not grow over 100,000 encodes of short, varied text', async () => {
    const tokenizer = (await loadV3()) as BpeTokenizer;
    const lines = Object.values(corpus()).flatMap((text) => text.split('\n')).filter((l) => l.length < 2000);
    const words = ['x', '深度', '👩🏽‍💻', '\ud800', '  ', '\r\n', '123456789', 'Привет', '<｜User｜>'];
    tokenizer.encode(lines.reduce((a, b) => (b.length > a.length ? b : a), '').repeat(2));
    const before = tokenizer.encoder.memory.buffer.byteLength;
    for (let i = 0; i < 100_000; i++) {
      const line = lines[(i * 7919) % lines.length];
      const text = i % 3 === 0 ? line : `${words[i % words.length]}${line.slice(i % 17, (i % 17) + 40)}${words[(i * 5) % words.length]}`;
      tokenizer.encode(text);
    }
    expect(tokenizer.encoder.memory.buffer.byteLength).toBe(before);
    tokenizer.dispose();
  });
});
