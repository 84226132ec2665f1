// GGUF v3: metadata and tensor directory parsed by @huggingface/gguf (fed from
// any ModelSource through a Range-serving fetch shim), tensor bytes read by
// range. ggml orders dimensions fastest-first (ne0 = K); StoredTensor.shape is
// the row-major reverse.
import { gguf, type GGUFParseOutput } from '@huggingface/gguf';
import type { DType } from '../backend/backend.ts';
import { bytesFor } from '../backend/backend.ts';
import type { ModelSource } from './source.ts';
import { WeightFileError, type StoredTensor } from './safetensors.ts';
import { checkTensorLayout } from './tensor-layout.ts';

const GGML_TYPES: Record<number, DType> = { 0: 'f32', 1: 'f16', 2: 'q4_0', 8: 'q8_0', 30: 'bf16' };
const GGML_TYPE_NAMES: Record<number, string> = {
  3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K',
};

export type GgufMetadata = Record<string, unknown>;

export interface GgufFile {
  readonly file: string;
  readonly metadata: GgufMetadata;
  readonly tensors: Map<string, StoredTensor>;
}

/** A fetch that answers Range requests from a ModelSource, for @huggingface/gguf. */
function rangeFetch(source: ModelSource, file: string, fileSize: number): typeof fetch {
  return (async (_input: unknown, init?: { headers?: Record<string, string> }) => {
    const match = /bytes=(\d+)-(\d+)/.exec(init?.headers?.Range ?? '');
    const start = match ? Number(match[1]) : 0;
    const end = Math.min(match ? Number(match[2]) + 1 : fileSize, fileSize);
    const bytes = start < end ? await source.read(file, start, end - start) : new Uint8Array(0);
    return new Response(bytes as Uint8Array<ArrayBuffer>, { status: 206, headers: { 'content-range': `bytes ${start}-${end - 1}/${fileSize}` } });
  }) as typeof fetch;
}

export async function readGguf(source: ModelSource, file: string): Promise<GgufFile> {
  const fileSize = await source.size(file);
  if (fileSize < 4) throw new WeightFileError(`${file}: truncated (${fileSize} bytes)`);
  const magic = await source.read(file, 0, 4);
  if (String.fromCharCode(...magic) !== 'GGUF') {
    throw new WeightFileError(`${file}: bad magic ${JSON.stringify(String.fromCharCode(...magic))} (not a GGUF file)`);
  }
  let parsed: GGUFParseOutput;
  try {
    parsed = await gguf(`https://model.invalid/${encodeURIComponent(file)}` /* served by rangeFetch, never the network */, { fetch: rangeFetch(source, file, fileSize) });
  } catch (error) {
    throw new WeightFileError(`${file}: GGUF header could not be parsed (${(error as Error).message})`);
  }
  const metadata = parsed.metadata as unknown as GgufMetadata;
  const version = metadata.version;
  if (version !== 3 && version !== 2) throw new WeightFileError(`${file}: GGUF version ${String(version)} is not supported (2 or 3)`);
  const dataStart = Number(parsed.tensorDataOffset);
  // (A vocabulary-only file has no tensors and may end before its data section's aligned start.)
  if (dataStart > fileSize && parsed.tensorInfos.length > 0) {
    throw new WeightFileError(`${file}: the tensor directory ends at byte ${dataStart} but the file has ${fileSize} bytes (truncated)`);
  }
  const alignment = ggufAlignment(file, metadata);
  if (dataStart % alignment !== 0) throw new WeightFileError(`${file}: tensor data starts at byte ${dataStart}, not aligned to general.alignment ${alignment}`);
  const tensors = new Map<string, StoredTensor>();
  for (const info of parsed.tensorInfos) {
    const dtype = GGML_TYPES[info.dtype];
    if (!dtype) {
      const label = GGML_TYPE_NAMES[info.dtype] ?? `ggml type ${info.dtype}`;
      throw new WeightFileError(`${file}: tensor ${info.name} has unsupported type ${label} (F32, F16, BF16, Q8_0, Q4_0)`);
    }
    const shape = info.shape.map(Number).reverse();
    if ((dtype === 'q8_0' || dtype === 'q4_0') && shape[shape.length - 1] % 32 !== 0) {
      throw new WeightFileError(`${file}: tensor ${info.name} is ${dtype} but its row length ${shape[shape.length - 1]} is not a multiple of 32`);
    }
    const byteLength = bytesFor(dtype, shape);
    const offset = dataStart + Number(info.offset);
    if (offset + byteLength > fileSize) {
      throw new WeightFileError(`${file}: tensor ${info.name} ends at byte ${offset + byteLength} but the file has ${fileSize} bytes (truncated?)`);
    }
    if (tensors.has(info.name)) throw new WeightFileError(`${file}: tensor ${info.name} is listed twice`);
    tensors.set(info.name, { name: info.name, file, dtype, shape, offset, byteLength });
  }
  checkTensorLayout(file, [...tensors.values()], fileSize, { alignment, dataStart });
  return { file, metadata, tensors };
}

/** general.alignment (default 32): a positive power of two, or the file is refused. */
function ggufAlignment(file: string, metadata: GgufMetadata): number {
  const value = metadata['general.alignment'] ?? 32;
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) {
    throw new WeightFileError(`${file}: general.alignment ${String(value)} is not a positive power of two`);
  }
  return n;
}
