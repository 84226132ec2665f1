// `import wasm from 'edgeseek/wasm'` in a Worker: the compiled kernels, both
// builds, for createEngine({ wasmModule: wasm }). The engine runs the
// relaxed-SIMD build where the runtime's self-test of its relaxed ops passes
// (kernel-build.ts) and the plain-SIMD build otherwise, so a runtime that
// compiles relaxed SIMD but computes it wrong still gets right answers.
// Bundlers apply their .wasm rule (wrangler: CompiledWasm) to these relative
// imports, which they do not do for a package's bare .wasm export.
import plain from '../build/edgeseek.wasm';
import relaxed from '../build/edgeseek-relaxed.wasm';
import type { KernelModules } from './backend/cpu/kernel-build.ts';

export const kernelModules: KernelModules = { plain, relaxed };

export default kernelModules;
