// Host-side layout decisions of the WebGPU backend (no GPU needed): weight
// parts, threads per row, context splits.
import { describe, expect, it } from 'vitest';
import { contextSplits } from '../../src/backend/webgpu/mla.ts';
import { packedRowBytes, planParts, threadsPerRow } from '../../src/backend/webgpu/weight-layout.ts';

describe('webgpu layout', () => {
  it('stacked weights split on whole matrices, 2-D weights on rows, each part within the limit', () => {
    const rowBytes = packedRowBytes('q8_0', 2048);
    const experts = planParts('experts', 'q8_0', [64, 1408, 2048], 128 * 1024 * 1024);
    expect(experts.every((p) => p.row0 % 1408 === 0 && p.rows % 1408 === 0 && p.rows * rowBytes <= 128 * 1024 * 1024)).toBe(true);
    expect(experts.reduce((a, p) => a + p.rows, 0)).toBe(64 * 1408);
    const head = planParts('lm_head', 'q8_0', [102400, 2048], 128 * 1024 * 1024);
    expect(head.length).toBe(2);
    expect(head.reduce((a, p) => a + p.rows, 0)).toBe(102400);
  });

  it('block types: whole word-padded blocks per row, parts on whole rows (V2-Lite widths in Q4_K, Q6_K, Q5_0)', () => {
    expect(packedRowBytes('q4_k', 2048)).toBe(8 * 144);
    expect(packedRowBytes('q6_k', 2048)).toBe(8 * 212); // 210-byte blocks padded to 53 words
    expect(packedRowBytes('q5_0', 1408)).toBe(44 * 24);
    const experts = planParts('experts', 'q5_0', [64, 2048, 1408], 64 * 1024 * 1024);
    expect(experts.every((p) => p.row0 % 2048 === 0 && p.rows * packedRowBytes('q5_0', 1408) <= 64 * 1024 * 1024)).toBe(true);
    expect(experts.reduce((a, p) => a + p.rows, 0)).toBe(64 * 2048);
  });

  it('threads per row: powers of two up to 64, about 4 groups of 4 values each', () => {
    expect([8, 128, 512, 1408, 2048, 10944].map(threadsPerRow)).toEqual([1, 8, 32, 64, 64, 64]);
  });

  it('context splits cover the context in 64-position multiples and fill the GPU for decode', () => {
    for (const [T, pos0] of [[1, 0], [1, 511], [1, 4095], [1, 16383], [128, 0], [70, 3000]]) {
      const { splits, splitLen } = contextSplits(T, pos0 + T, 16);
      expect(splitLen % 64, `T=${T} pos0=${pos0}`).toBe(0);
      expect(splits * splitLen).toBeGreaterThanOrEqual(pos0 + T);
      expect((splits - 1) * splitLen).toBeLessThan(pos0 + T);
    }
    expect(contextSplits(1, 4096, 16).splits).toBeGreaterThanOrEqual(32);
  });
});
