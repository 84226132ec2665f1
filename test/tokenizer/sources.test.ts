// Loading from any ModelSource with an explicit Wasm module (as a Worker
// does), and clear errors for what cannot be a byte-level BPE tokenizer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { memorySource } from '../../src/model/source.ts';
import { loadTokenizer, tokenizerFromJson } from '../../src/tokenizer/index.ts';
import { tinyConfig, tinyDir, tinyJson } from './support.ts';

const file = (name: string) => new Uint8Array(readFileSync(join(tinyDir, name)));
const hello = [72, 324, 448, 851, 487];

describe('tokenizer sources', () => {
  it('memory source with tokenizer.json + tokenizer_config.json, module passed in', async () => {
    const module = await loadWasmModuleFromDisk();
    const source = memorySource({ 'tokenizer.json': file('tokenizer.json'), 'tokenizer_config.json': file('tokenizer_config.json') }, 'tiny-a');
    const tokenizer = await loadTokenizer(source, { module });
    expect(tokenizer.encode('Hello world')).toEqual(hello);
    expect(tokenizer.applyChatTemplate([{ role: 'user', content: 'x' }])).toContain('User: x');
    tokenizer.dispose();
  });

  it('memory source holding only a .gguf', async () => {
    const tokenizer = await loadTokenizer(memorySource({ 'model.gguf': file('model.gguf') }, 'tiny-a-gguf'));
    expect(tokenizer.encode('Hello world')).toEqual(hello);
    expect(tokenizer.eosId).toBe(999);
    tokenizer.dispose();
  });

  it('clear errors: no tokenizer files, wrong model type, missing byte tokens, bad merges', async () => {
    await expect(loadTokenizer(memorySource({ 'config.json': new Uint8Array(2) }, 'empty-dir'))).rejects.toThrow(/empty-dir: no tokenizer\.json and no \.gguf/);
    const json = JSON.parse(tinyJson);
    await expect(tokenizerFromJson({ ...json, model: { ...json.model, type: 'Unigram' } })).rejects.toThrow(/model\.type "Unigram" is not supported/);
    const vocab = { ...json.model.vocab };
    delete vocab['Ā'];
    await expect(tokenizerFromJson({ ...json, model: { ...json.model, vocab } }, tinyConfig, { label: 'x.json' }))
      .rejects.toThrow(/x\.json: the vocabulary has no token for byte 0x0/);
    await expect(tokenizerFromJson({ ...json, model: { ...json.model, merges: ['Ġ nosuch'] } })).rejects.toThrow(/merge 0 "Ġ nosuch"/);
    await expect(tokenizerFromJson({ ...json, pre_tokenizer: { type: 'Whitespace' } })).rejects.toThrow(/pre_tokenizer: type Whitespace is not supported/);
  });

  it('without tokenizer_config.json, BOS comes from the post-processor', async () => {
    const tokenizer = await tokenizerFromJson(tinyJson);
    expect(tokenizer.bosId).toBe(998);
    expect(tokenizer.encode('Hello world', { addSpecialTokens: true })).toEqual([998, ...hello]);
    tokenizer.dispose();
  });

  it('encodeBytes: invalid UTF-8 around a special token keeps both', async () => {
    const tokenizer = await tokenizerFromJson(tinyJson, tinyConfig);
    const special = new TextEncoder().encode('<｜end▁of▁sentence｜>');
    const bytes = new Uint8Array([0xff, 0x41, ...special, 0xc3, 0x28]);
    const ids = tokenizer.encodeBytes(bytes);
    expect(ids).toContain(999);
    expect(new Uint8Array(ids.flatMap((id) => [...tokenizer.tokenBytes(id)]))).toEqual(bytes);
    expect(tokenizer.encodeBytes(bytes, { parseSpecial: false })).not.toContain(999);
    tokenizer.dispose();
  });
});
