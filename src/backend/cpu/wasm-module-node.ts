import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../cli/package-root.ts';

const compiled = new Map<string, Promise<WebAssembly.Module>>();

function compileOnce(file: string): Promise<WebAssembly.Module> {
  let module = compiled.get(file);
  if (!module) {
    module = readFile(join(packageRoot(), 'build', file)).then((bytes) => WebAssembly.compile(bytes));
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
