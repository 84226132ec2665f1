// The weight types, one row each (ggml's type_traits): GGML id and name, block
// size and bytes, the plain-JS decoder and our quantizer, the CPU kernels that
// read it (assembly/kernels/block_types.ts) and its decoder in
// shaders/weights.wgsl. Adding a type is adding a row here, its Wasm kernels
// and its WGSL case; nothing else branches on the type.
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.ts';
import {
  decodeIq4Xs, decodeQ2K, decodeQ3K, decodeQ4K, decodeQ5K, decodeQ6K,
} from './quant/k-blocks.ts';
import {
  quantizeIq4Xs, quantizeQ2K, quantizeQ3K, quantizeQ4K, quantizeQ5K, quantizeQ6K,
} from './quant/k-quantize.ts';
import {
  decodeIq4Nl, decodeQ4_0, decodeQ4_1, decodeQ5_0, decodeQ5_1, decodeQ8_0, quantizeIq4Nl,
  quantizeQ4_0, quantizeQ4_1, quantizeQ5_0, quantizeQ5_1, quantizeQ8_0, type BlockDecoder,
} from './quant/legacy-blocks.ts';

/**
 * How the WebGPU backend holds a type (src/backend/webgpu/weight-layout.ts):
 * 'rows' rows padded to 4 elements; 'scales' an f32 scale per 32 values then
 * word-aligned quants; 'blocks' the file's blocks, each padded to whole words
 * (`moveScale`: the leading f16 d moved behind the quants so they start on a word).
 */
export type GpuLayout =
  | { readonly kind: 'rows' }
  | { readonly kind: 'scales' }
  | { readonly kind: 'blocks'; readonly blockWords: number; readonly moveScale?: boolean };

export interface WeightType {
  /** ggml_type id in GGUF tensor infos. */
  readonly ggml: number;
  /** ggml's name (error messages, README). */
  readonly label: string;
  /** Elements per block along a row (1 for float types); rows must be whole blocks. */
  readonly block: number;
  readonly blockBytes: number;
  /** Decodes one block into f32 with ggml's dequantize_row_* arithmetic. */
  readonly decode: BlockDecoder;
  /** Our quantizer: f32 values (whole blocks) → the file's bytes. */
  readonly quantize: (values: Float32Array) => Uint8Array;
  /**
   * llama.cpp's type for a tensor whose rows are not whole blocks of this one
   * (llama-quant.cpp's fallback when a row is not a multiple of 256).
   */
  readonly fallback?: DType;
  /** Wasm exports: matmul_<t>(w, x, xStride, out, outStride, N, K, T, scratch) and dequantize_<t>(src, dst, count). */
  readonly cpu: {
    readonly matmul: string;
    readonly dequantize?: string;
    /**
     * The integer-activation kernel (int16 activations, src/backend/cpu/integer-kernels.ts),
     * for types that have one, and its twin on i32x4.relaxed_dot_i8x16_i7x16_add_s
     * where the relaxed build's self-test passes that op; the other types run
     * their exact kernel in the integer mode too (as F16 does).
     */
    readonly int16?: { readonly kernel: string; readonly dotAdd?: string };
  };
  /** WDTYPE in shaders/weights.wgsl, and the layout the shader reads. */
  readonly gpu: { readonly code: number; readonly layout: GpuLayout };
}

const floatRow = (bytes: number, read: (b: Uint8Array, at: number) => number, write: (values: Float32Array) => Uint8Array) => ({
  block: 1,
  blockBytes: bytes,
  decode: ((b, at, out, o) => { out[o] = read(b, at); }) as BlockDecoder,
  quantize: write,
});

const u16 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
const halves = (convert: (v: number) => number) => (values: Float32Array): Uint8Array => {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]);
  return new Uint8Array(out.buffer);
};

export type DType =
  | 'f32' | 'f16' | 'bf16'
  | 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | 'q5_1' | 'iq4_nl'
  | 'q2_k' | 'q3_k' | 'q4_k' | 'q5_k' | 'q6_k' | 'iq4_xs';

export const WEIGHT_TYPES: Readonly<Record<DType, WeightType>> = {
  f32: {
    ggml: 0, label: 'F32',
    ...floatRow(4, (b, at) => new DataView(b.buffer, b.byteOffset).getFloat32(at, true), (v) => new Uint8Array(v.slice().buffer)),
    cpu: { matmul: 'matmul_f32' }, gpu: { code: 0, layout: { kind: 'rows' } },
  },
  f16: {
    ggml: 1, label: 'F16', ...floatRow(2, (b, at) => f16ToF32(u16(b, at)), halves(f32ToF16)),
    cpu: { matmul: 'matmul_f16', dequantize: 'dequantize_f16' }, gpu: { code: 1, layout: { kind: 'rows' } },
  },
  bf16: {
    ggml: 30, label: 'BF16', ...floatRow(2, (b, at) => bf16ToF32(u16(b, at)), halves(f32ToBf16)),
    cpu: { matmul: 'matmul_bf16', dequantize: 'dequantize_bf16' }, gpu: { code: 2, layout: { kind: 'rows' } },
  },
  q8_0: {
    ggml: 8, label: 'Q8_0', block: 32, blockBytes: 34, decode: decodeQ8_0, quantize: quantizeQ8_0,
    cpu: { matmul: 'matmul_q8_0', dequantize: 'dequantize_q8_0', int16: { kernel: 'matmul_q8_0_int16' } }, gpu: { code: 3, layout: { kind: 'scales' } },
  },
  q4_0: {
    ggml: 2, label: 'Q4_0', block: 32, blockBytes: 18, decode: decodeQ4_0, quantize: quantizeQ4_0,
    cpu: { matmul: 'matmul_q4_0', dequantize: 'dequantize_q4_0', int16: { kernel: 'matmul_q4_0_int16', dotAdd: 'matmul_q4_0_int16_dotadd' } }, gpu: { code: 4, layout: { kind: 'scales' } },
  },
  q4_1: {
    ggml: 3, label: 'Q4_1', block: 32, blockBytes: 20, decode: decodeQ4_1, quantize: quantizeQ4_1,
    cpu: { matmul: 'matmul_q4_1', dequantize: 'dequantize_q4_1', int16: { kernel: 'matmul_q4_1_int16' } }, gpu: { code: 5, layout: { kind: 'blocks', blockWords: 5 } },
  },
  q5_0: {
    ggml: 6, label: 'Q5_0', block: 32, blockBytes: 22, decode: decodeQ5_0, quantize: quantizeQ5_0,
    cpu: { matmul: 'matmul_q5_0', dequantize: 'dequantize_q5_0', int16: { kernel: 'matmul_q5_0_int16' } }, gpu: { code: 6, layout: { kind: 'blocks', blockWords: 6, moveScale: true } },
  },
  q5_1: {
    ggml: 7, label: 'Q5_1', block: 32, blockBytes: 24, decode: decodeQ5_1, quantize: quantizeQ5_1,
    cpu: { matmul: 'matmul_q5_1', dequantize: 'dequantize_q5_1', int16: { kernel: 'matmul_q5_1_int16' } }, gpu: { code: 7, layout: { kind: 'blocks', blockWords: 6 } },
  },
  iq4_nl: {
    ggml: 20, label: 'IQ4_NL', block: 32, blockBytes: 18, decode: decodeIq4Nl, quantize: quantizeIq4Nl,
    cpu: { matmul: 'matmul_iq4_nl', dequantize: 'dequantize_iq4_nl', int16: { kernel: 'matmul_iq4_nl_int16' } }, gpu: { code: 8, layout: { kind: 'blocks', blockWords: 5, moveScale: true } },
  },
  q2_k: {
    ggml: 10, label: 'Q2_K', block: 256, blockBytes: 84, decode: decodeQ2K, quantize: quantizeQ2K, fallback: 'iq4_nl',
    cpu: { matmul: 'matmul_q2_k', dequantize: 'dequantize_q2_k' }, gpu: { code: 9, layout: { kind: 'blocks', blockWords: 21 } },
  },
  q3_k: {
    ggml: 11, label: 'Q3_K', block: 256, blockBytes: 110, decode: decodeQ3K, quantize: quantizeQ3K, fallback: 'iq4_nl',
    cpu: { matmul: 'matmul_q3_k', dequantize: 'dequantize_q3_k' }, gpu: { code: 10, layout: { kind: 'blocks', blockWords: 28 } },
  },
  q4_k: {
    ggml: 12, label: 'Q4_K', block: 256, blockBytes: 144, decode: decodeQ4K, quantize: quantizeQ4K, fallback: 'q5_0',
    cpu: { matmul: 'matmul_q4_k', dequantize: 'dequantize_q4_k', int16: { kernel: 'matmul_q4_k_int16' } }, gpu: { code: 11, layout: { kind: 'blocks', blockWords: 36 } },
  },
  q5_k: {
    ggml: 13, label: 'Q5_K', block: 256, blockBytes: 176, decode: decodeQ5K, quantize: quantizeQ5K, fallback: 'q5_1',
    cpu: { matmul: 'matmul_q5_k', dequantize: 'dequantize_q5_k', int16: { kernel: 'matmul_q5_k_int16' } }, gpu: { code: 12, layout: { kind: 'blocks', blockWords: 44 } },
  },
  q6_k: {
    ggml: 14, label: 'Q6_K', block: 256, blockBytes: 210, decode: decodeQ6K, quantize: quantizeQ6K, fallback: 'q8_0',
    cpu: { matmul: 'matmul_q6_k', dequantize: 'dequantize_q6_k', int16: { kernel: 'matmul_q6_k_int16' } }, gpu: { code: 13, layout: { kind: 'blocks', blockWords: 53 } },
  },
  iq4_xs: {
    ggml: 23, label: 'IQ4_XS', block: 256, blockBytes: 136, decode: decodeIq4Xs, quantize: quantizeIq4Xs, fallback: 'iq4_nl',
    cpu: { matmul: 'matmul_iq4_xs', dequantize: 'dequantize_iq4_xs', int16: { kernel: 'matmul_iq4_xs_int16' } }, gpu: { code: 14, layout: { kind: 'blocks', blockWords: 34 } },
  },
};

export const DTYPES = Object.keys(WEIGHT_TYPES) as DType[];

/** The row of `dtype` (an unknown name is a programming error, not a file error). */
export function weightType(dtype: DType): WeightType {
  const row = WEIGHT_TYPES[dtype] as WeightType | undefined;
  if (!row) throw new Error(`unknown weight dtype '${String(dtype)}'`);
  return row;
}

/** The dtype of a GGML type id, if we support it. */
export function dtypeOfGgml(ggml: number): DType | undefined {
  return DTYPES.find((t) => WEIGHT_TYPES[t].ggml === ggml);
}

/** Bytes of a tensor of `shape` stored as `dtype` (whole blocks along the last dimension). */
export function bytesFor(dtype: DType, shape: readonly number[]): number {
  const { block, blockBytes } = weightType(dtype);
  return (shape.reduce((a, b) => a * b, 1) / block) * blockBytes;
}

/** True when rows of length K are whole blocks of `dtype`. */
export function rowsFit(dtype: DType, K: number): boolean {
  return K % weightType(dtype).block === 0;
}
