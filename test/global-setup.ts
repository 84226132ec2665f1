import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Tests run against build/edgeseek.wasm; rebuild it when sources are newer so a
// stale module never hides a kernel change.
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (process.env.EDGESEEK_SKIP_WASM_BUILD && existsSync(`${root}/build/edgeseek.wasm`)) return;
  execFileSync('npx', ['asc', 'assembly/index.ts', '--config', 'asconfig.json', '--target', 'release'], {
    cwd: root, stdio: 'inherit',
  });
}
