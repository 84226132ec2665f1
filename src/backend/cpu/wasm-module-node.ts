import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../cli/package-root.ts';
import { compiledOnce, KERNELS_FILE, THREADS_FILE } from './wasm-files.ts';

const compileOnce = compiledOnce((file) => {
  const path = join(packageRoot(), 'build', file);
  return readFile(path).then((bytes) => WebAssembly.compile(bytes), (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw new Error(`${path} is missing: the Wasm module is not built (an install with scripts skipped, e.g. --ignore-scripts, skips it). Run \`npm run build\` in ${packageRoot()}.`);
  });
});

/** build/edgeseek.wasm, compiled once per process (Node and Deno; workers import it instead). */
export function loadWasmModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce(KERNELS_FILE);
}

/** build/edgeseek-threads.wasm: the same kernels over a shared memory, for the multi-threaded CPU backend. */
export function loadWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce(THREADS_FILE);
}
