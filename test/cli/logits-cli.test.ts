// design.md contract: `edgeseek logits --model PATH --ids 1,2,3 [--out FILE]`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/edgeseek.js', import.meta.url));
const sequence = readGolden().sequences[0];
const reference = readF32(`${GOLDEN_DIR}/${sequence.logits_file}`);

describe('edgeseek logits', () => {
  it('prints {vocab, positions, logits} as JSON, matching the golden logits', async () => {
    const { stdout } = await run('node', [BIN, 'logits', '--model', GOLDEN_DIR, '--ids', sequence.ids.join(',')], { maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout) as { vocab: number; positions: number; logits: number[][] };
    expect(out.vocab).toBe(1000);
    expect(out.positions).toBe(sequence.ids.length);
    expect(out.logits).toHaveLength(sequence.ids.length);
    const flat = Float32Array.from(out.logits.flat());
    const rel = relativeError(flat, reference);
    expect(rel, `‖Δ‖/‖ref‖ = ${rel}`).toBeLessThan(1e-5);
  });

  it('--threads 2: the same logits, computed on a worker thread too (the process does not exit before its workers start)', async () => {
    const { stdout } = await run('node', [BIN, 'logits', '--model', GOLDEN_DIR, '--ids', sequence.ids.join(','), '--threads', '2'], { maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout) as { logits: number[][] };
    const rel = relativeError(Float32Array.from(out.logits.flat()), reference);
    expect(rel, `‖Δ‖/‖ref‖ = ${rel}`).toBeLessThan(1e-5);
  });

  it('--out writes raw little-endian f32 [N × V] and prints the header only (GGUF model path)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'edgeseek-')), 'logits.f32');
    const { stdout } = await run('node', [BIN, 'logits', '--model', `${GOLDEN_DIR}/model.gguf`, '--ids', sequence.ids.join(','), '--out', file]);
    expect(JSON.parse(stdout)).toEqual({ vocab: 1000, positions: sequence.ids.length });
    const bytes = readFileSync(file);
    expect(bytes.byteLength).toBe(sequence.ids.length * 1000 * 4);
    const rel = relativeError(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), reference);
    expect(rel, `‖Δ‖/‖ref‖ = ${rel}`).toBeLessThan(1e-5);
  });

  it('bad input is a clear error with a non-zero exit: an id outside the vocabulary', async () => {
    const failure = await run('node', [BIN, 'logits', '--model', GOLDEN_DIR, '--ids', '1,5000']).catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toMatch(/token id 5000 is outside the vocabulary/);
  });

  it('a missing model path names it', async () => {
    const failure = await run('node', [BIN, 'logits', '--model', '/nonexistent/model', '--ids', '1']).catch((e) => e);
    expect(failure.stderr).toMatch(/\/nonexistent\/model does not exist/);
  });
});
