// Chat templates from tokenizer_config.json through @huggingface/jinja.
import { describe, expect, it } from 'vitest';
import { tokenizerFromJson } from '../../src/tokenizer/index.ts';
import { loadTiny, loadV3, tinyConfig, tinyJson } from './support.ts';

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: '2+2?' },
];

describe('chat templates', () => {
  it("renders tiny-a's template with system, user, assistant and the generation prompt", async () => {
    const tokenizer = await loadTiny();
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<｜begin▁of▁sentence｜>Be brief.\n\nUser: Hi\n\nAssistant: Hello.<｜end▁of▁sentence｜>User: 2+2?\n\nAssistant:');
    expect(tokenizer.applyChatTemplate(messages.slice(1, 2))).toBe('<｜begin▁of▁sentence｜>User: Hi\n\n');
    const ids = tokenizer.encode(tokenizer.applyChatTemplate(messages.slice(1, 2)));
    expect(ids[0]).toBe(tokenizer.bosId);
    tokenizer.dispose();
  });

  it("renders DeepSeek-V3's template", async () => {
    const tokenizer = await loadV3();
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>Hello.<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>');
    expect(tokenizer.stopIds).toContain(tokenizer.eosId);
    tokenizer.dispose();
  });

  it('a broken template is a clear error naming chat_template; encoding still works', async () => {
    const config = { ...JSON.parse(tinyConfig), chat_template: '{% for m in messages %}{{ m.content' };
    const tokenizer = await tokenizerFromJson(tinyJson, config, { label: 'tiny-a/tokenizer.json' });
    expect(tokenizer.encode('Hello world').length).toBeGreaterThan(0);
    expect(() => tokenizer.applyChatTemplate(messages)).toThrow(/tiny-a\/tokenizer\.json: chat_template could not be parsed/);
    const failing = await tokenizerFromJson(tinyJson, { ...JSON.parse(tinyConfig), chat_template: '{{ raise_exception("no system role") }}' });
    expect(() => failing.applyChatTemplate(messages)).toThrow(/chat_template failed to render/);
    const none = await tokenizerFromJson(tinyJson);
    expect(() => none.applyChatTemplate(messages)).toThrow(/no chat_template/);
    for (const t of [tokenizer, failing, none]) t.dispose();
  });
});
