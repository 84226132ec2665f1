// The browser build's replacement for src/backend/cpu/wasm-module-node.ts
// (same exports): the Wasm modules are the .wasm files the build copies next
// to the bundle (dist/browser/), fetched relative to it and compiled once per
// page. A page that serves them elsewhere passes `wasmModule` / `threadsModule`.

const compiled = new Map<string, Promise<WebAssembly.Module>>();

async function compile(url: URL): Promise<WebAssembly.Module> {
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
}

function compileOnce(file: string): Promise<WebAssembly.Module> {
  let module = compiled.get(file);
  if (!module) {
    module = compile(new URL(`./${file}`, import.meta.url));
    module.catch(() => compiled.delete(file));
    compiled.set(file, module);
  }
  return module;
}

/** edgeseek.wasm next to the bundle (the name is wasm-module-node.ts's, which this module stands in for). */
export function loadWasmModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce('edgeseek.wasm');
}

/** edgeseek-threads.wasm next to the bundle: the kernels over a shared memory, for Web Worker threads. */
export function loadWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce('edgeseek-threads.wasm');
}
