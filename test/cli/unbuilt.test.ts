// An install that skipped the package's build (npm --ignore-scripts) leaves no
// dist/ and no build/: the CLI says so and names the command that builds them,
// instead of failing inside Node's module loader.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('edgeseek without dist/ exits 1 naming `npm run build`', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeseek-unbuilt-'));
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(fileURLToPath(new URL('../../bin/edgeseek.js', import.meta.url)), join(dir, 'bin', 'edgeseek.js'));
    const failure = await promisify(execFile)('node', [join(dir, 'bin', 'edgeseek.js'), 'generate', '--prompt', 'hi']).catch((e) => e);
    expect(failure.code).toBe(1);
    expect(failure.stderr).toContain('is not built');
    expect(failure.stderr).toContain('npm run build');
    expect(failure.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
