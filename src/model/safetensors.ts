// safetensors (single file or sharded through model.safetensors.index.json):
// an 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets: [begin, end]}}, then the data. Every
// claim of the header is checked against the file before a byte is used.
import type { DType } from '../backend/backend.ts';
import type { ModelSource } from './source.ts';
import { readText } from './source.ts';
import { checkTensorLayout, duplicateTopLevelKey } from './tensor-layout.ts';

export class WeightFileError extends Error {}

export interface StoredTensor {
  readonly name: string;
  readonly file: string;
  readonly dtype: DType;
  /** Row-major, last dimension contiguous. */
  readonly shape: readonly number[];
  readonly offset: number;
  readonly byteLength: number;
}

const DTYPES: Record<string, { dtype: DType; size: number }> = {
  F32: { dtype: 'f32', size: 4 },
  F16: { dtype: 'f16', size: 2 },
  BF16: { dtype: 'bf16', size: 2 },
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';

/** All tensors of a safetensors checkpoint, by name. */
export async function readSafetensorsIndex(source: ModelSource): Promise<Map<string, StoredTensor>> {
  if (await source.has(SAFETENSORS_INDEX)) {
    let index: { weight_map?: Record<string, string> };
    try { index = JSON.parse(await readText(source, SAFETENSORS_INDEX)); } catch (error) {
      throw new WeightFileError(`${SAFETENSORS_INDEX}: not valid JSON (${(error as Error).message})`);
    }
    const map = index.weight_map;
    if (!map || typeof map !== 'object') throw new WeightFileError(`${SAFETENSORS_INDEX}: missing "weight_map"`);
    const files = [...new Set(Object.values(map))];
    const tensors = new Map<string, StoredTensor>();
    for (const file of files) {
      for (const [name, tensor] of await readSafetensorsHeader(source, file)) {
        if (map[name] !== file) {
          throw new WeightFileError(`${file}: tensor ${name} is not listed for this shard in ${SAFETENSORS_INDEX}`);
        }
        tensors.set(name, tensor);
      }
    }
    for (const [name, file] of Object.entries(map)) {
      if (!tensors.has(name)) throw new WeightFileError(`${SAFETENSORS_INDEX}: tensor ${name} is mapped to ${file}, which does not contain it`);
    }
    return tensors;
  }
  return readSafetensorsHeader(source, SAFETENSORS_FILE);
}

export async function readSafetensorsHeader(source: ModelSource, file: string): Promise<Map<string, StoredTensor>> {
  const fileSize = await source.size(file);
  if (fileSize < 8) throw new WeightFileError(`${file}: truncated (${fileSize} bytes, no safetensors header)`);
  const lengthBytes = await source.read(file, 0, 8);
  const headerLength = Number(new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize) {
    throw new WeightFileError(`${file}: header length ${headerLength} does not fit a ${fileSize}-byte file (not safetensors, or truncated)`);
  }
  let header: Record<string, unknown>;
  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(await source.read(file, 8, headerLength));
    header = JSON.parse(headerText);
  } catch (error) {
    throw new WeightFileError(`${file}: header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new WeightFileError(`${file}: header is not a JSON object`);
  }
  const duplicate = duplicateTopLevelKey(headerText);
  if (duplicate !== undefined) throw new WeightFileError(`${file}: tensor ${duplicate} is listed twice in the header`);
  const dataStart = 8 + headerLength;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, StoredTensor>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const kind = typeof entry?.dtype === 'string' ? DTYPES[entry.dtype] : undefined;
    if (!kind) throw new WeightFileError(`${file}: tensor ${name} has unsupported dtype ${JSON.stringify(entry?.dtype)} (F32, F16, BF16)`);
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new WeightFileError(`${file}: tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
      throw new WeightFileError(`${file}: tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const expected = shape.reduce((a: number, b: number) => a * b, 1) * kind.size;
    if (offsets[1] - offsets[0] !== expected) {
      throw new WeightFileError(`${file}: tensor ${name} has ${offsets[1] - offsets[0]} bytes but shape ${JSON.stringify(shape)} × ${entry.dtype} needs ${expected}`);
    }
    if (offsets[1] > dataSize) {
      throw new WeightFileError(`${file}: tensor ${name} ends at byte ${dataStart + offsets[1]} but the file has ${fileSize} bytes (truncated?)`);
    }
    tensors.set(name, { name, file, dtype: kind.dtype, shape, offset: dataStart + offsets[0], byteLength: expected });
  }
  checkTensorLayout(file, [...tensors.values()], fileSize);
  return tensors;
}
