// Which pre-tokenizers run natively, and the JS RegExp path for the others
// (GGUF deepseek-coder, arbitrary Split sequences).
import { describe, expect, it } from 'vitest';
import { PATTERN_DEEPSEEK_LLM, PATTERN_DEEPSEEK_V3, planPreTokenizer } from '../../src/tokenizer/pre-tokenizer.ts';
import { DEEPSEEK_LLM_PRE_TOKENIZER, DEEPSEEK_V3_PRE_TOKENIZER, GGUF_PRE_TOKENIZERS } from '../../src/tokenizer/pretokenizer-configs.ts';

describe('pre-tokenizer plans', () => {
  it('the DeepSeek sequences run natively with their own character classes', () => {
    const llm = planPreTokenizer(DEEPSEEK_LLM_PRE_TOKENIZER);
    expect(llm).toMatchObject({ kind: 'native', pattern: PATTERN_DEEPSEEK_LLM });
    expect(llm.kind === 'native' && llm.classes.map((c) => c.slice(0, 8))).toEqual(['[A-Za-zµ', '[!-/:-~！', '[一-龥ࠀ-一가']);
    expect(planPreTokenizer(DEEPSEEK_V3_PRE_TOKENIZER)).toMatchObject({ kind: 'native', pattern: PATTERN_DEEPSEEK_V3, classes: ['[一-龥\u3040-ゟ゠-ヿ]'] });
  });

  it('a changed regex is not mistaken for a native pattern', () => {
    const changed = structuredClone(DEEPSEEK_V3_PRE_TOKENIZER) as { pretokenizers: { pattern: { Regex: string } }[] };
    changed.pretokenizers[0].pattern.Regex = '\\p{N}{1,2}';
    const plan = planPreTokenizer(changed);
    expect(plan.kind).toBe('regex');
    expect(plan.kind === 'regex' && plan.split('12345')).toEqual(['12', '34', '5']);
  });

  it('deepseek-coder (GGUF) splits through RegExp as its Split sequence says', () => {
    const plan = planPreTokenizer(GGUF_PRE_TOKENIZERS['deepseek-coder']);
    expect(plan.kind).toBe('regex');
    expect(plan.kind === 'regex' && plan.split('Hello, 世界 123')).toEqual(['Hello', ',', ' ', '世界', ' ', '1', '2', '3']);
  });

  it('unsupported steps are clear errors', () => {
    expect(() => planPreTokenizer({ type: 'Split', pattern: { Regex: 'a' }, behavior: 'MergedWithNext', invert: false }))
      .toThrow(/Split behavior MergedWithNext is not supported/);
    expect(() => planPreTokenizer({ type: 'Split', pattern: { Regex: '(?<=' }, behavior: 'Isolated', invert: false }))
      .toThrow(/regex "\(\?<=" is not supported/);
  });
});
