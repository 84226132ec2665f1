import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../cli/package-root.ts';

const compiled = new Map<string, Promise<WebAssembly.Module>>();

function compileOnce(file: string): Promise<WebAssembly.Module> {
  let module = compiled.get(file);
  if (!module) {
    const path = join(packageRoot(), 'build', file);
    module = readFile(path).then((bytes) => WebAssembly.compile(bytes), (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      throw new Error(`${path} is missing: the Wasm module is not built (an install with scripts skipped, e.g. --ignore-scripts, skips it). Run \`npm run build\` in ${packageRoot()}.`);
    });
    compiled.set(file, module);
  }
  return module;
}

/** build/edgeseek.wasm, compiled once per process (Node and Deno; workers import it instead). */
export function loadWasmModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce('edgeseek.wasm');
}

/** build/edgeseek-threads.wasm: the same kernels over a shared memory, for the multi-threaded CPU backend. */
export function loadWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce('edgeseek-threads.wasm');
}
