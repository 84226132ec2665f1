// Where model files come from. A model is a set of named files (config.json,
// model.safetensors, tokenizer.json, ... or one .gguf) that can be read by
// byte range, so a multi-GB checkpoint streams tensor by tensor instead of
// being held whole in memory. Implementations: a Node/Deno directory
// (source-fs.ts), in-memory buffers, fetch/URL, R2 and static-asset bindings.

export interface ModelSource {
  /** A short description for error messages and /v1/models (a path or URL). */
  readonly label: string;
  /** Whether `file` exists. */
  has(file: string): Promise<boolean>;
  /** Size of `file` in bytes; a clear error naming the file when it is missing. */
  size(file: string): Promise<number>;
  /** `length` bytes of `file` from `offset`; an error naming the file if fewer exist. */
  read(file: string, offset: number, length: number): Promise<Uint8Array>;
  /** Reads target.byteLength bytes of `file` from `offset` into target, where the source can (no whole-tensor intermediate copy; source-fs.ts goes through an 8 MB buffer). */
  readInto?(file: string, offset: number, target: Uint8Array): Promise<void>;
  /** The files there are, where the source can tell (directories, memory). */
  list?(): Promise<string[]>;
  /** An HTTP entity tag that changes when `file` changes, where the source can tell (a server handing the file on uses it). */
  etag?(file: string): Promise<string | undefined>;
}

export async function readAll(source: ModelSource, file: string): Promise<Uint8Array> {
  return source.read(file, 0, await source.size(file));
}

export async function readText(source: ModelSource, file: string): Promise<string> {
  return new TextDecoder().decode(await readAll(source, file));
}

/** A source over in-memory files (tests, ArrayBuffer providers, bundled assets). */
export function memorySource(files: Record<string, Uint8Array>, label = 'memory'): ModelSource {
  const get = (file: string): Uint8Array => {
    const data = files[file];
    if (!data) throw new Error(`${label}: model file ${file} not found`);
    return data;
  };
  return {
    label,
    has: async (file) => file in files,
    list: async () => Object.keys(files),
    size: async (file) => get(file).byteLength,
    read: async (file, offset, length) => {
      const data = get(file);
      if (offset + length > data.byteLength) {
        throw new Error(`${label}/${file}: read of ${length} bytes at ${offset} past the end (${data.byteLength} bytes)`);
      }
      return data.subarray(offset, offset + length);
    },
  };
}
