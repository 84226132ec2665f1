// GGUF from a URL (pages, Worker assets, R2): a directory that holds only
// model.gguf, and the URL of a .gguf file itself, both load the weights and
// the tokenizer from the GGUF and generate the golden greedy text.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { createEngine } from '../../src/engine/engine.ts';
import type { Engine } from '../../src/engine/types.ts';
import { r2Source, urlSource, type R2BucketLike } from '../../src/entries/fetch-source.ts';
import { modelFiles } from '../../src/model/model-files.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { GOLDEN_DIR, readGolden, type GoldenGreedy } from '../support/golden.ts';
import { startStaticServer, type StaticServer } from '../support/static-server.ts';

const golden = readGolden();

async function greedyIds(engine: Engine, g: GoldenGreedy): Promise<number[]> {
  const ids: number[] = [];
  for await (const e of engine.generate({ promptIds: g.prompt_ids, maxTokens: g.continuation_ids.length, temperature: 0 })) if (e.type === 'token') ids.push(e.id);
  return ids;
}

describe('GGUF models from URLs', () => {
  let server: StaticServer;
  beforeAll(async () => {
    server = await startStaticServer({ routes: { '/gguf-only/model.gguf': `${GOLDEN_DIR}/model.gguf`, '/tiny-a/': GOLDEN_DIR } });
  });
  afterAll(async () => { await server?.close(); });

  it('a URL directory holding only model.gguf: weights and tokenizer from the GGUF, golden greedy text', async () => {
    const engine = await createEngine({ model: `${server.url}/gguf-only/` });
    try {
      expect(engine.model.id).toBe('gguf-only');
      expect(await greedyIds(engine, golden.greedy[0])).toEqual(golden.greedy[0].continuation_ids);
    } finally {
      await engine.dispose();
    }
  });

  it('the URL of a .gguf file (next to other files it ignores): Q8_0 weights and the GGUF tokenizer', async () => {
    const url = `${server.url}/tiny-a/model-q8_0.gguf`;
    expect(await modelFiles(urlSource(url))).toEqual(['model-q8_0.gguf']);
    const engine = await createEngine({ model: url });
    try {
      expect(engine.model.id).toBe('model-q8_0');
      expect(await greedyIds(engine, golden.q8_0.greedy[0])).toEqual(golden.q8_0.greedy[0].continuation_ids);
    } finally {
      await engine.dispose();
    }
  });

  it('a missing .gguf URL is an error naming the file', async () => {
    await expect(createEngine({ model: `${server.url}/tiny-a/nothing.gguf` })).rejects.toThrow(/nothing\.gguf: model file nothing\.gguf not found/);
  });
});

describe('GGUF models from R2', () => {
  const objects: Record<string, Uint8Array> = {
    'dir/model.gguf': new Uint8Array(readFileSync(`${GOLDEN_DIR}/model.gguf`)),
    'models/tiny.gguf': new Uint8Array(readFileSync(`${GOLDEN_DIR}/model.gguf`)),
  };
  const bucket: R2BucketLike = {
    head: async (key) => (objects[key] ? { size: objects[key].byteLength } : null),
    get: async (key, options) => {
      const data = objects[key];
      if (!data) return null;
      const { offset = 0, length = data.byteLength } = options?.range ?? {};
      return { arrayBuffer: async () => data.slice(offset, offset + length).buffer };
    },
  };

  it('a prefix holding only model.gguf, and a prefix naming a .gguf object, load the GGUF tokenizer', async () => {
    const module = await loadWasmModuleFromDisk();
    for (const prefix of ['dir/', 'models/tiny.gguf']) {
      const tokenizer = await loadTokenizer(r2Source(bucket, prefix), { module });
      expect(tokenizer.encode('Hello world'), prefix).toEqual([72, 324, 448, 851, 487]);
      tokenizer.dispose();
    }
  });
});
