// Exports of assembly/kernels (see assembly/index.ts and src/backend/cpu/kernel-exports.ts).
export { matmul_f32, matmul_bf16 } from './matmul_float';
export { matmul_f16 } from './matmul_f16';
export { matmul_q8_0, matmul_q4_0, matmul_q8_0_i16, matmul_q4_0_i16 } from './matmul_quant_tiles';
export { quantize_act_i16 } from './matmul_quant_i16';
export { dequantize_f16, dequantize_bf16, dequantize_q8_0, dequantize_q4_0 } from './dequantize';
export * from './block_types';
export { rmsnorm } from './rmsnorm';
export { rope } from './rope';
export { add, swiglu, copy_rows } from './elementwise';
export { mla_attend } from './mla_attend';
