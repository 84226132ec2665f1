// `import wasm from 'edgeseek/wasm'` in a Worker: the compiled kernels as a
// WebAssembly.Module. Bundlers apply their .wasm rule (wrangler: CompiledWasm)
// to this relative import, which they do not do for a package's bare .wasm export.
import wasm from '../build/edgeseek.wasm';

export default wasm;
