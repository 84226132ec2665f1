// The playground's files on disk (Node, Deno): the page from playground/ and
// the browser build from dist/browser/ (npm run build) of the package.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../cli/package-root.ts';
import type { PlaygroundFiles } from '../server/playground.ts';

/** The build files a page loads (the bundle, its source map, the Wasm modules); nothing else of dist/ is served. */
const BUILD_FILE = /^(edgeseek\.js(\.map)?|[\w-]+\.wasm)$/;

export function playgroundFilesOnDisk(root = packageRoot()): PlaygroundFiles {
  return {
    async read(name) {
      const path = BUILD_FILE.test(name) ? join(root, 'dist', 'browser', name) : join(root, 'playground', name);
      try { return new Uint8Array(await readFile(path)); } catch { return undefined; }
    },
  };
}
