// The file-system model source reads tensors into their target (a Wasm
// memory view) through a bounce buffer (source-fs.ts says why), and `read`
// straight into a buffer of its own: every byte at its place across
// buffer-sized chunks, from any offset, and a clear error naming the file when
// it ends early.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsSource } from '../../src/model/source-fs.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeseek-source-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 8 MB is the bounce buffer: 20 MB + 3 bytes spans three chunks, the last a partial one.
const SIZE = (20 << 20) + 3;
const bytes = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) bytes[i] = (i * 2654435761) >>> 27;
const file = join(dir, 'weights.bin');
writeFileSync(file, bytes);

describe('fsSource readInto', () => {
  it('fills a target larger than the bounce buffer from an odd offset, leaving the bytes around it alone', async () => {
    const source = await fsSource(dir);
    const offset = 12345;
    const length = SIZE - offset - 7;
    const target = new Uint8Array(length + 2).fill(0xee);
    await source.readInto!('weights.bin', offset, target.subarray(1, 1 + length));
    expect(target[0]).toBe(0xee);
    expect(target[length + 1]).toBe(0xee);
    const got = target.subarray(1, 1 + length);
    let firstDiff = -1;
    for (let i = 0; i < length && firstDiff < 0; i++) if (got[i] !== bytes[offset + i]) firstDiff = i;
    expect(firstDiff, 'first byte that differs').toBe(-1);
  });

  it('read (straight into its own buffer) returns the same bytes', async () => {
    const source = await fsSource(dir);
    const got = await source.read('weights.bin', 777, (9 << 20) + 5);
    let firstDiff = -1;
    for (let i = 0; i < got.length && firstDiff < 0; i++) if (got[i] !== bytes[777 + i]) firstDiff = i;
    expect(firstDiff, 'first byte that differs').toBe(-1);
  });

  it('names the file and the missing bytes when it ends early', async () => {
    const source = await fsSource(file);
    const target = new Uint8Array(1000);
    await expect(source.readInto!('weights.bin', SIZE - 10, target)).rejects.toThrow(/weights\.bin: truncated — wanted 1000 bytes at offset \d+, file ends after \d+/);
    await expect(source.read('weights.bin', SIZE - 10, 1000)).rejects.toThrow(/weights\.bin: truncated — wanted 1000 bytes at offset \d+, file ends after \d+/);
  });
});
