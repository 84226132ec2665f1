// The browser build's replacement for src/backend/cpu/wasm-module-node.ts
// (same exports): the Wasm modules are the .wasm files the build copies next
// to the bundle (dist/browser/), fetched relative to it and compiled once per
// page; a relaxed-SIMD build this browser cannot compile (Safari) is left out,
// and kernel-build.ts runs the plain one. A page that serves them elsewhere
// passes `wasmModule` / `threadsModule`.
import { compiledOnce, compileIfValid, kernelLoaders } from '../backend/cpu/wasm-files.ts';

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

// The .wasm files next to the bundle, under wasm-module-node.ts's names (KernelLoaders).
export const {
  loadWasmModuleFromDisk, loadWasmThreadsModuleFromDisk, loadRelaxedWasmModuleFromDisk, loadRelaxedWasmThreadsModuleFromDisk,
  loadKernelModulesFromDisk,
} = kernelLoaders(compileOnce, compileRelaxedOnce);
