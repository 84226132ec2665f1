// GGUF v3: metadata and tensor directory parsed by @huggingface/gguf (fed from
// any ModelSource through a Range-serving fetch shim), tensor bytes read by
// range. ggml orders dimensions fastest-first (ne0 = K); StoredTensor.shape is
// the row-major reverse.
import { gguf, type GGUFParseOutput } from '@huggingface/gguf';
import type { ModelSource } from './source.ts';
import { WeightFileError, type StoredTensor } from './safetensors.ts';
import { checkTensorLayout } from './tensor-layout.ts';
import { bytesFor, DTYPES, dtypeOfGgml, rowsFit, weightType } from './weight-types.ts';

/** ggml's names of the types we do not read (for error messages). */
const UNSUPPORTED_GGML_NAMES: Record<number, string> = {
  9: 'Q8_1', 15: 'Q8_K', 16: 'IQ2_XXS', 17: 'IQ2_XS', 18: 'IQ3_XXS', 19: 'IQ1_S', 21: 'IQ3_S', 22: 'IQ2_S',
  24: 'I8', 25: 'I16', 26: 'I32', 27: 'I64', 28: 'F64', 29: 'IQ1_M', 34: 'TQ1_0', 35: 'TQ2_0', 39: 'MXFP4',
};
const SUPPORTED = DTYPES.map((t) => weightType(t).label).join(', ');

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
  // Every tensor's type is checked before any is read, so an unsupported file uploads nothing.
  const unsupported = parsed.tensorInfos.filter((info) => dtypeOfGgml(info.dtype) === undefined);
  if (unsupported.length > 0) {
    const { name, dtype } = unsupported[0];
    const others = unsupported.length > 1 ? ` (and ${unsupported.length - 1} more tensors of unsupported types)` : '';
    throw new WeightFileError(`${file}: tensor ${name} has unsupported type ${UNSUPPORTED_GGML_NAMES[dtype] ?? `ggml type ${dtype}`}${others}; supported: ${SUPPORTED}`);
  }
  const tensors = new Map<string, StoredTensor>();
  for (const info of parsed.tensorInfos) {
    const dtype = dtypeOfGgml(info.dtype)!;
    const shape = info.shape.map(Number).reverse();
    if (!rowsFit(dtype, shape[shape.length - 1])) {
      const { label, block } = weightType(dtype);
      throw new WeightFileError(`${file}: tensor ${info.name} is ${label} but its row length ${shape[shape.length - 1]} is not a multiple of ${block}`);
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
