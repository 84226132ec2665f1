// The package's root directory on disk (Node/Deno), whether running from src/
// through a TypeScript loader or from the compiled dist/src/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_DIR } from '../entries/default-model.ts';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('edgeseek: cannot find the package root (package.json)');
    dir = parent;
  }
  return dir;
}

/** The bundled default model on disk. */
export function defaultModelPath(): string {
  return join(packageRoot(), DEFAULT_MODEL_DIR);
}
