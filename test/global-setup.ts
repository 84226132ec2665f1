import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function stale(output: string, ...sources: string[]): boolean {
  const out = join(root, output);
  if (!existsSync(out)) return true;
  const built = statSync(out).mtimeMs;
  return sources.some((s) => newestMtime(join(root, s)) > built);
}

// Tests run the built Wasm module, the compiled `edgeseek` bin (the CLI
// contract) and the browser build (test/browser): rebuild whichever is older
// than its sources, so a stale build never hides a change.
export default function setup(): void {
  // The four builds of the kernels: plain and relaxed SIMD, each with and without shared memory.
  const targets = {
    release: 'build/edgeseek.wasm', relaxed: 'build/edgeseek-relaxed.wasm',
    threads: 'build/edgeseek-threads.wasm', 'relaxed-threads': 'build/edgeseek-relaxed-threads.wasm',
  };
  for (const [target, output] of Object.entries(targets)) {
    if (stale(output, 'assembly')) {
      execFileSync('npx', ['asc', 'assembly/index.ts', '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
    }
  }
  // Before tsc: the Worker imports the playground module the browser build writes.
  if (stale('dist/browser/playground-files.js', 'src', 'shaders', 'build', 'scripts', 'playground')) {
    execFileSync(process.execPath, ['scripts/build-browser.js'], { cwd: root, stdio: 'inherit' });
  }
  if (stale('dist/src/cli/main.js', 'src')) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  }
}
