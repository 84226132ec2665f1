// The browser build's replacement for src/backend/cpu/wasm-module-node.ts
// (same exports): the Wasm modules are the .wasm files the build copies next
// to the bundle (dist/browser/), fetched relative to it and compiled once per
// page; a relaxed-SIMD build this browser cannot compile (Safari) is left out,
// and kernel-build.ts runs the plain one. A page that serves them elsewhere
// passes `wasmModule` / `threadsModule`.
import type { KernelModules } from '../backend/cpu/kernel-build.ts';
import {
  compiledOnce, compileIfValid, KERNELS_FILE, kernelModulesFrom, RELAXED_FILE, RELAXED_THREADS_FILE, THREADS_FILE,
} from '../backend/cpu/wasm-files.ts';

async function fetchBuild(file: string): Promise<Response> {
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
  return response;
}

const compileOnce = compiledOnce(async (file) => {
  const response = await fetchBuild(file);
  // compileStreaming needs Content-Type application/wasm; servers that send another type get the buffered path.
  if (response.headers.get('Content-Type')?.startsWith('application/wasm')) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
});
const compileRelaxedOnce = compiledOnce(async (file) => compileIfValid(await (await fetchBuild(file)).arrayBuffer()));

/** edgeseek.wasm next to the bundle (the name is wasm-module-node.ts's, which this module stands in for). */
export function loadWasmModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce(KERNELS_FILE);
}

/** edgeseek-threads.wasm next to the bundle: the kernels over a shared memory, for Web Worker threads. */
export function loadWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module> {
  return compileOnce(THREADS_FILE);
}

/** edgeseek-relaxed.wasm next to the bundle, or undefined where this browser has no relaxed SIMD. */
export function loadRelaxedWasmModuleFromDisk(): Promise<WebAssembly.Module | undefined> {
  return compileRelaxedOnce(RELAXED_FILE);
}

/** edgeseek-relaxed-threads.wasm next to the bundle, or undefined where this browser has no relaxed SIMD. */
export function loadRelaxedWasmThreadsModuleFromDisk(): Promise<WebAssembly.Module | undefined> {
  return compileRelaxedOnce(RELAXED_THREADS_FILE);
}

/** Every build this browser can compile (the threads ones only when `threads`), for kernel-build.ts to choose from. */
export function loadKernelModulesFromDisk(options: { threads?: boolean } = {}): Promise<KernelModules> {
  return kernelModulesFrom(compileOnce, compileRelaxedOnce, options.threads ?? false);
}
