// Checks on a weight file's tensor directory that its parser does not make:
// each name once, each tensor's bytes inside the file, aligned as the format
// says, and no two tensors sharing bytes. A file that fails is refused at open,
// naming the file and the tensor, before anything is read or uploaded.
import { WeightFileError } from './safetensors.ts';

export interface TensorExtent {
  readonly name: string;
  /** Absolute byte offset in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export function checkTensorLayout(file: string, tensors: readonly TensorExtent[], fileSize: number, options: { alignment?: number; dataStart?: number } = {}): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '') throw new WeightFileError(`${file}: a tensor has an empty name (a corrupt or truncated tensor directory)`);
    if (seen.has(t.name)) throw new WeightFileError(`${file}: tensor ${t.name} is listed twice`);
    seen.add(t.name);
    if (options.alignment && (t.offset - (options.dataStart ?? 0)) % options.alignment !== 0) {
      throw new WeightFileError(`${file}: tensor ${t.name} starts at byte ${t.offset}, not aligned to the file's ${options.alignment}-byte alignment`);
    }
    if (t.offset + t.byteLength > fileSize) {
      throw new WeightFileError(`${file}: tensor ${t.name} ends at byte ${t.offset + t.byteLength} but the file has ${fileSize} bytes (truncated?)`);
    }
  }
  const byOffset = [...tensors].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const [before, after] = [byOffset[i - 1], byOffset[i]];
    if (after.offset < before.offset + before.byteLength) {
      throw new WeightFileError(`${file}: tensors ${before.name} (bytes ${before.offset}..${before.offset + before.byteLength}) and ${after.name} (from byte ${after.offset}) overlap`);
    }
  }
}

/** The first key that appears twice at the top level of a JSON object's text (JSON.parse keeps only the last), or undefined. */
export function duplicateTopLevelKey(json: string): string | undefined {
  const keys = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}
