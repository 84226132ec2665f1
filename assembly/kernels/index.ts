// Exports of assembly/kernels (see assembly/index.ts and src/backend/cpu/kernel-exports.ts).
export { matmul_f32, matmul_bf16 } from './matmul_float';
export { matmul_f16 } from './matmul_f16';
export { matmul_q8_0, matmul_q4_0 } from './matmul_quant_tiles';
export { matmul_q8_0_int16, matmul_q4_0_int16, matmul_q4_0_int16_dotadd, int16_scratch_bytes } from './matmul_int16_tiles';
export {
  matmul_q4_k_int16, matmul_q5_k_int16, matmul_q6_k_int16, matmul_q5_0_int16, matmul_q5_1_int16, matmul_q4_1_int16, matmul_iq4_nl_int16, matmul_iq4_xs_int16,
} from './matmul_blocks_int16';
export { quantize_act_int16, act_int16_bytes } from './act_quant';
export { dequantize_f16, dequantize_bf16, dequantize_q8_0, dequantize_q4_0 } from './dequantize';
export * from './block_types';
export { rmsnorm } from './rmsnorm';
export { rope } from './rope';
export { add, swiglu, copy_rows } from './elementwise';
export { mla_attend } from './mla_attend';
export { simd_relaxed } from './simd';
export { simd_self_test } from './simd_self_test';
export { scheduling_fence } from './fence';
