// tokenizer_config.json `chat_template`, rendered with @huggingface/jinja the
// way transformers' apply_chat_template does: messages, add_generation_prompt
// and the special tokens as variables.
import { Template } from '@huggingface/jinja';
import type { ChatTemplateMessage } from './types.ts';

export class ChatTemplate {
  private readonly template: Template;

  constructor(readonly source: string, private readonly variables: Record<string, unknown>, private readonly label: string) {
    try {
      this.template = new Template(source);
    } catch (error) {
      throw new Error(`${label}: chat_template could not be parsed: ${(error as Error).message}`);
    }
  }

  render(messages: readonly ChatTemplateMessage[], addGenerationPrompt: boolean): string {
    try {
      return this.template.render({ ...this.variables, messages, add_generation_prompt: addGenerationPrompt });
    } catch (error) {
      throw new Error(`${this.label}: chat_template failed to render: ${(error as Error).message}`);
    }
  }
}
