// The one Wasm module's exports. Each area keeps its own index; kernels take
// pointers into memory the TypeScript side manages (src/backend/cpu/heap.ts)
// and never allocate. The contract is src/backend/cpu/kernel-exports.ts.
export { heapBase } from './memory';
export * from './kernels/index';
export * from './moe/index';
export * from './tokenizer/index';
export { stream_read } from './bench/bandwidth';
