import { readFile } from 'node:fs/promises';

let compiled: Promise<WebAssembly.Module> | undefined;

/** build/edgeseek.wasm, compiled once per process (Node and Deno; workers import it instead). */
export function loadWasmModuleFromDisk(): Promise<WebAssembly.Module> {
  compiled ??= readFile(new URL('../../../build/edgeseek.wasm', import.meta.url).pathname.replace(/\/dist\//, '/'))
    .then((bytes) => WebAssembly.compile(bytes));
  return compiled;
}
