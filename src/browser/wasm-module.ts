// The browser build's replacement for src/backend/cpu/wasm-module-node.ts
// (same exports): the Wasm modules are the .wasm files the build copies next
// to the bundle (dist/browser/), fetched relative to it and compiled once per
// page. A page that serves them elsewhere passes `wasmModule` / `threadsModule`.
import { compiledOnce, KERNELS_FILE, THREADS_FILE } from '../backend/cpu/wasm-files.ts';

const compileOnce = compiledOnce(async (file) => {
  const url = new URL(`./${file}`, import.meta.url);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`edgeseek: cannot fetch ${url.href} (${(error as Error).message})`);
  }
  if (!response.ok) {
    throw new Error(`edgeseek: ${url.href}: HTTP ${response.status} (the .wasm files ship next to edgeseek.js; serve them together, or pass wasmModule)`);
  }
  // compileStreaming needs Content-Type application/wasm; servers that send another type get the buffered path.
  if (response.headers.get('Content-Type')?.startsWith('application/wasm')) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
});

/** edgeseek.wasm next to the bundle (the name is wasm-module-node.ts's, which this module stands in for). */
export function loadWasmModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce(KERNELS_FILE);
}

/** edgeseek-threads.wasm next to the bundle: the kernels over a shared memory, for Web Worker threads. */
export function loadWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce(THREADS_FILE);
}
