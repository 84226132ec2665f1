// The Wasm modules of the CPU backend by file name, compiled once each per
// process or page. How a file's bytes are reached belongs to the runtime:
// wasm-module-node.ts reads build/ on disk, src/browser/wasm-module.ts fetches
// the copy next to the bundle.

/** The kernels (build/edgeseek.wasm), and the same over a shared memory for threads. */
export const KERNELS_FILE = 'edgeseek.wasm';
export const THREADS_FILE = 'edgeseek-threads.wasm';

/** `compile`, called once per file; a failed compile is forgotten, so a later call tries again. */
export function compiledOnce(compile: (file: string) => Promise<WebAssembly.Module>): (file: string) => Promise<WebAssembly.Module> {
  const compiled = new Map<string, Promise<WebAssembly.Module>>();
  return (file) => {
    let module = compiled.get(file);
    if (!module) {
      module = compile(file);
      module.catch(() => compiled.delete(file));
      compiled.set(file, module);
    }
    return module;
  };
}
