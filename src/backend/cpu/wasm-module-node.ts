// The Wasm kernel builds read from the package's build/ folder (Node and Deno;
// Workers import them instead, src/wasm.ts; the browser build fetches them,
// src/browser/wasm-module.ts). Which one runs is kernel-build.ts's choice;
// this file only reads and compiles.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../cli/package-root.ts';
import { compiledOnce, compileIfValid, kernelLoaders } from './wasm-files.ts';

function readBuild(file: string): Promise<Uint8Array<ArrayBuffer>> {
  const path = join(packageRoot(), 'build', file);
  return readFile(path).then((b) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength), (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw new Error(`${path} is missing: the Wasm module is not built (an install with scripts skipped, e.g. --ignore-scripts, skips it). Run \`npm run build\` in ${packageRoot()}.`);
  });
}

/**
 * Node 20's V8 has relaxed SIMD behind a flag (Node 22 and Deno have it on).
 * The flag is process-wide and read when a module is compiled, so setting it
 * before the first relaxed compile is enough; worker threads receive compiled modules.
 */
async function enableRelaxedSimd(bytes: BufferSource): Promise<void> {
  if (WebAssembly.validate(bytes)) return;
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  if (!node || 'Deno' in globalThis) return;
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

const compileOnce = compiledOnce(async (file) => WebAssembly.compile(await readBuild(file)));
const compileRelaxedOnce = compiledOnce(async (file): Promise<WebAssembly.Module | undefined> => {
  if (process.env.EDGESEEK_NO_RELAXED_SIMD === '1') return undefined;
  const bytes = await readBuild(file);
  await enableRelaxedSimd(bytes);
  return compileIfValid(bytes);
});

// build/edgeseek.wasm and its twins (KernelLoaders). EDGESEEK_NO_RELAXED_SIMD=1
// loads no relaxed build, as on a runtime without relaxed SIMD (Safari; tests of the fallback).
export const {
  loadWasmModuleFromDisk, loadWasmThreadsModuleFromDisk, loadRelaxedWasmModuleFromDisk, loadRelaxedWasmThreadsModuleFromDisk,
  loadKernelModulesFromDisk,
} = kernelLoaders(compileOnce, compileRelaxedOnce);
