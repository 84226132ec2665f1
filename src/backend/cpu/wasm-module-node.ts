import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../cli/package-root.ts';

let compiled: Promise<WebAssembly.Module> | undefined;

/** build/edgeseek.wasm, compiled once per process (Node and Deno; workers import it instead). */
export function loadWasmModuleFromDisk(): Promise<WebAssembly.Module> {
  compiled ??= readFile(join(packageRoot(), 'build', 'edgeseek.wasm')).then((bytes) => WebAssembly.compile(bytes));
  return compiled;
}
