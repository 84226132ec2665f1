// `edgeseek tokenize` as design.md's contract says: ids as JSON on stdout, or
// little-endian u32 to --out with {"tokens","bytes","ms"} on stdout.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { fixtures, tinyDir } from './support.ts';

async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { stdout += String(chunk); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { stderr += String(chunk); return true; });
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

afterEach(() => vi.restoreAllMocks());
const hello = [72, 324, 448, 851, 487]; // tiny-a tokenize.json, "Hello world"

describe('edgeseek tokenize', () => {
  for (const [label, path] of [['tokenizer.json', join(tinyDir, 'tokenizer.json')], ['a directory', tinyDir], ['a .gguf', join(tinyDir, 'model.gguf')]]) {
    it(`--text with ${label} prints the ids as JSON`, async () => {
      const { code, stdout } = await runCli(['tokenize', '--tokenizer', path, '--text', 'Hello world']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual(hello);
    });
  }

  it('--file with --out writes little-endian u32 ids and prints counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeseek-tokenize-'));
    writeFileSync(join(dir, 'in.txt'), 'Hello world');
    const { code, stdout } = await runCli(['tokenize', '--tokenizer', tinyDir, '--file', join(dir, 'in.txt'), '--out', join(dir, 'ids.u32')]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ tokens: 5, bytes: 11 });
    expect(typeof summary.ms).toBe('number');
    const raw = readFileSync(join(dir, 'ids.u32'));
    expect([...new Uint32Array(raw.buffer, raw.byteOffset, raw.length / 4)]).toEqual(hello);
  });

  it('--bos prepends BOS; the DeepSeek-LLM GGUF works too', async () => {
    const { stdout } = await runCli(['tokenize', '--tokenizer', join(fixtures, 'vocab', 'ggml-vocab-deepseek-llm.gguf'), '--text', 'Hello world', '--bos']);
    expect(JSON.parse(stdout)).toEqual([100000, 17464, 1843]);
  });

  it('usage errors exit 2 with a message', async () => {
    const both = await runCli(['tokenize', '--tokenizer', tinyDir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exactly one of --text or --file/);
    const missing = await runCli(['tokenize', '--tokenizer', '/nonexistent/tok.json', '--text', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
