// Sources that cannot list their files (fetch/URL, asset and R2 bindings) still find a model.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { openCheckpoint } from '../../src/model/checkpoint.ts';
import { memorySource, type ModelSource } from '../../src/model/source.ts';
import { GOLDEN_DIR } from '../support/golden.ts';

function unlisted(files: Record<string, Uint8Array>): ModelSource {
  const { list: _list, ...rest } = memorySource(files, 'unlisted');
  return rest;
}

it('finds model.gguf without listing', async () => {
  const checkpoint = await openCheckpoint(unlisted({ 'model.gguf': new Uint8Array(readFileSync(`${GOLDEN_DIR}/model.gguf`)) }));
  expect(checkpoint.format).toBe('gguf');
});

it('finds config.json + model.safetensors without listing', async () => {
  const checkpoint = await openCheckpoint(unlisted({
    'config.json': new Uint8Array(readFileSync(`${GOLDEN_DIR}/config.json`)),
    'model.safetensors': new Uint8Array(readFileSync(`${GOLDEN_DIR}/model.safetensors`)),
  }));
  expect(checkpoint.format).toBe('safetensors');
});

it('says what it looked for when there is neither', async () => {
  await expect(openCheckpoint(unlisted({ 'other.bin': new Uint8Array(4) }))).rejects.toThrow(/no model found \(expected config\.json \+ model\.safetensors/);
});
