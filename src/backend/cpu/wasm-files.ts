// The Wasm modules of the CPU backend by file name, compiled once each per
// process or page. How a file's bytes are reached belongs to the runtime:
// wasm-module-node.ts reads build/ on disk, src/browser/wasm-module.ts fetches
// the copy next to the bundle. Which build runs is kernel-build.ts's choice.
import type { KernelModules } from './kernel-build.ts';

/** The kernels (build/edgeseek.wasm), and the same over a shared memory for threads. */
const KERNELS_FILE = 'edgeseek.wasm';
const THREADS_FILE = 'edgeseek-threads.wasm';
/** The relaxed-SIMD builds of the same kernels (assembly/kernels/simd.ts). */
const RELAXED_FILE = 'edgeseek-relaxed.wasm';
const RELAXED_THREADS_FILE = 'edgeseek-relaxed-threads.wasm';

/** `compile`, called once per file; a failed compile is forgotten, so a later call tries again. */
export function compiledOnce<M = WebAssembly.Module>(compile: (file: string) => Promise<M>): (file: string) => Promise<M> {
  const compiled = new Map<string, Promise<M>>();
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

/** Bytes of a relaxed build compiled, or undefined where this runtime cannot compile relaxed SIMD. */
export function compileIfValid(bytes: BufferSource): Promise<WebAssembly.Module | undefined> {
  return WebAssembly.validate(bytes) ? WebAssembly.compile(bytes) : Promise.resolve(undefined);
}

/** The builds a runtime's loader gives (the threads ones only when `threads`), for selectKernels. */
async function kernelModulesFrom(
  load: (file: string) => Promise<WebAssembly.Module>, loadRelaxed: (file: string) => Promise<WebAssembly.Module | undefined>, threads: boolean,
): Promise<KernelModules> {
  const [plain, relaxed] = await Promise.all([load(KERNELS_FILE), loadRelaxed(RELAXED_FILE)]);
  if (!threads) return { plain, relaxed };
  const [plainThreads, relaxedThreads] = await Promise.all([load(THREADS_FILE), loadRelaxed(RELAXED_THREADS_FILE)]);
  return { plain, relaxed, plainThreads, relaxedThreads };
}

/** The loaders a runtime's wasm-module file exports (the same names everywhere, so the browser bundle can stand in for Node's). */
export interface KernelLoaders {
  /** The plain build, compiled once; also what the tokenizer and the bandwidth probe run. */
  loadWasmModuleFromDisk(): Promise<WebAssembly.Module>;
  /** The plain kernels over a shared memory, for the multi-threaded CPU backend. */
  loadWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module>;
  /** The relaxed build, or undefined where this runtime has no relaxed SIMD. */
  loadRelaxedWasmModuleFromDisk(): Promise<WebAssembly.Module | undefined>;
  loadRelaxedWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module | undefined>;
  /** Every build this runtime can compile (the threads builds only when `threads`): selectKernels (kernel-build.ts) picks one. */
  loadKernelModulesFromDisk(options?: { threads?: boolean }): Promise<KernelModules>;
}

/** KernelLoaders over a runtime's way to compile a build file (each compiled once). */
export function kernelLoaders(
  load: (file: string) => Promise<WebAssembly.Module>, loadRelaxed: (file: string) => Promise<WebAssembly.Module | undefined>,
): KernelLoaders {
  return {
    loadWasmModuleFromDisk: () => load(KERNELS_FILE),
    loadWasmThreadsModuleFromDisk: () => load(THREADS_FILE),
    loadRelaxedWasmModuleFromDisk: () => loadRelaxed(RELAXED_FILE),
    loadRelaxedWasmThreadsModuleFromDisk: () => loadRelaxed(RELAXED_THREADS_FILE),
    loadKernelModulesFromDisk: (options = {}) => kernelModulesFrom(load, loadRelaxed, options.threads ?? false),
  };
}
