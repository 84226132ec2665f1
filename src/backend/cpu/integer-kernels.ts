// The CPU backend's integer matmul path: the activation modes, the activation
// formats the integer kernels take, and each weight type's integer kernel as
// its row of the weight-type table names it (src/model/weight-types.ts
// `cpu.int16`, ggml's vec_dot_type and vec_dot). Adding a weight type to the
// integer path is filling that field of its row (and writing its kernels); a
// type without it runs with exact f32 activations.
import { weightType, type DType } from '../../model/weight-types.ts';
import { RELAXED_OPS } from './kernel-build.ts';

/**
 * Activations of matmuls whose weight type has an integer kernel: 'f32' keeps
 * the exact path for every weight; 'int16' quantizes each token's activations
 * per 32-element block to 15 bits (act_quant.ts) for integer dot products.
 */
export type ActivationMode = 'f32' | 'int16';
export const ACTIVATION_MODES: readonly ActivationMode[] = ['f32', 'int16'];

/** An activation format: the export that quantizes f32 rows into it, its bytes, and the kernels' scratch. */
export interface ActivationFormat {
  readonly quantize: 'quantize_act_int16';
  /** Elements per block: K must be a multiple. */
  readonly block: number;
  /** Bytes of T tokens of K values quantized. */
  bytes(K: number, T: number): number;
  /** Bytes of scratch one matmul call of T tokens needs. */
  scratchBytes(T: number): number;
}

export const ACTIVATION_FORMATS: Record<Exclude<ActivationMode, 'f32'>, ActivationFormat> = {
  // C vectors (16 B a block), f32 scales padded to 16 B, i16 values, two byte planes (act_quant.ts).
  int16: {
    quantize: 'quantize_act_int16', block: 32,
    bytes: (K, T) => Math.ceil((T * K / 32) * 20 / 16) * 16 + 4 * K * T,
    // The Q8_0/Q4_0 token loop's two widened blocks then 64 bytes a token (matmul_int16_token_loop.ts); the K-quant one's 96 a token.
    scratchBytes: (T) => (T > 1 ? 160 + 96 * T : 0),
  },
};

/**
 * The integer kernel of a weight type (undefined: none) for a build whose
 * self-test passed `relaxedOps` (kernel-build.ts; 0 in the plain build): its
 * dot-add twin where that op passed.
 */
export function integerKernel(dtype: DType, relaxedOps: number): string | undefined {
  const row = weightType(dtype).cpu.int16;
  if (!row) return undefined;
  return row.dotAdd && relaxedOps & RELAXED_OPS.dotAdd ? row.dotAdd : row.kernel;
}

/**
 * The activation mode a weight type runs with: `requested` where the type has
 * an integer kernel, else f32. Unset, quantized weights take their row's
 * integer mode — the default README justifies by its agreement figures.
 */
export function activationsFor(dtype: DType, requested: ActivationMode | undefined): ActivationMode {
  if (!weightType(dtype).cpu.int16 || requested === 'f32') return 'f32';
  return 'int16';
}

export function checkActivationMode(mode: unknown): ActivationMode | undefined {
  if (mode === undefined) return undefined;
  if (!ACTIVATION_MODES.includes(mode as ActivationMode)) {
    throw new Error(`CPU backend: activations must be ${ACTIVATION_MODES.map((m) => `'${m}'`).join(' or ')}, got '${String(mode)}'`);
  }
  return mode as ActivationMode;
}
