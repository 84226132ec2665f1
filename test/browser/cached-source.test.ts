// The page's model download (src/browser/cached-source.ts) against servers
// that are less helpful than a CDN, run under Node (no Cache API there: the
// chunks stay in memory for the load): one that ignores Range and sends whole
// files, and one that refuses HEAD.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWasmModuleFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { openModelUrl, type DownloadProgress } from '../../src/browser/cached-source.ts';
import { loadModelRunner } from '../../src/engine/runner.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';
import { startStaticServer, type StaticServer } from '../support/static-server.ts';

const sequence = readGolden().sequences[0];

async function goldenError(url: string, onProgress: (p: DownloadProgress) => void): Promise<number> {
  const source = await openModelUrl(url, { cache: false, chunkBytes: 256 * 1024, onProgress });
  const runner = await loadModelRunner(source, { backend: 'cpu', wasmModule: await loadWasmModuleFromDisk() });
  try {
    const seq = runner.newSequence(sequence.ids.length);
    return relativeError(await runner.forward(seq, sequence.ids, { allLogits: true }), readF32(`${GOLDEN_DIR}/${sequence.logits_file}`));
  } finally {
    runner.dispose();
  }
}

describe('model download from unhelpful servers', () => {
  let noRanges: StaticServer;
  let noHead: StaticServer;
  beforeAll(async () => {
    [noRanges, noHead] = await Promise.all([
      startStaticServer({ routes: { '/tiny-a/': GOLDEN_DIR }, noRanges: true }),
      startStaticServer({ routes: { '/tiny-a/': GOLDEN_DIR }, noHead: true }),
    ]);
  });
  afterAll(async () => { await noRanges?.close(); await noHead?.close(); });

  it('a server that ignores Range: each file comes whole once, is split into chunks, and progress ends at the total', async () => {
    const progress: DownloadProgress[] = [];
    expect(await goldenError(`${noRanges.url}/tiny-a/`, (p) => progress.push(p))).toBeLessThan(1e-4);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ loaded: last.total, filesLoaded: 4, filesTotal: 4 });
    expect(progress.every((p) => p.loaded <= p.total), 'never past the total').toBe(true);
    const gets = noRanges.requests.filter((r) => r.method === 'GET' && r.path === '/tiny-a/model.safetensors');
    expect(gets.map((r) => r.status)).toEqual([200]);
  });

  it('a server that refuses HEAD: sizes from a one-byte range instead', async () => {
    expect(await goldenError(`${noHead.url}/tiny-a/`, () => {})).toBeLessThan(1e-4);
    expect(noHead.requests.some((r) => r.method === 'GET' && r.range === 'bytes=0-0')).toBe(true);
  });
});
