// A model on the local file system (Node, Deno): a directory, or a single
// .gguf / tokenizer.json file exposed under its base name.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ModelSource } from './source.ts';

/** The largest read of readInto: a bounce buffer, copied into the target. */
const BOUNCE_BYTES = 8 << 20;

export async function fsSource(path: string): Promise<ModelSource> {
  let info;
  try { info = await stat(path); } catch {
    throw new Error(`model path ${path} does not exist`);
  }
  const dir = info.isDirectory() ? path : dirname(path);
  const only = info.isDirectory() ? undefined : basename(path);
  const resolve = (file: string): string => {
    if (only !== undefined && file !== only) throw new Error(`${path}: model file ${file} not found (a single-file model)`);
    return join(dir, file);
  };
  const sizeOf = async (file: string): Promise<number> => {
    try { return (await stat(resolve(file))).size; } catch (error) {
      if (error instanceof Error && error.message.includes('single-file')) throw error;
      throw new Error(`${join(dir, file)}: model file not found`);
    }
  };
  /**
   * Fills target from `offset` of the file. viaBuffer: read through a small
   * buffer and copy, rather than read() straight into the target — for a Wasm
   * memory: pages the kernel filled by read() still cost a fault on the first
   * user access (measured on this project's Linux VMs, the first pass over
   * freshly loaded weights ran at 0.7 GB/s against 27 GB/s after, which fell
   * on the first tokens generated); the copy touches each page once, from user
   * code, at about the same load time (853 vs 903 ms for 256 MB). A buffer of
   * `read`'s own is copied on anyway, so it is read straight into.
   */
  const readFile = async (file: string, offset: number, target: Uint8Array, viaBuffer: boolean): Promise<void> => {
    const full = resolve(file);
    const handle = await open(full, 'r').catch(() => { throw new Error(`${full}: model file not found`); });
    try {
      const length = target.byteLength;
      const bounce = viaBuffer ? new Uint8Array(Math.min(length, BOUNCE_BYTES)) : undefined;
      let done = 0;
      while (done < length) {
        const { bytesRead } = bounce
          ? await handle.read(bounce, 0, Math.min(bounce.byteLength, length - done), offset + done)
          : await handle.read(target, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new Error(`${full}: truncated — wanted ${length} bytes at offset ${offset}, file ends after ${offset + done}`);
        }
        if (bounce) target.set(bytesRead === bounce.byteLength ? bounce : bounce.subarray(0, bytesRead), done);
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
  };
  return {
    label: path,
    has: async (file) => {
      if (only !== undefined) return file === only;
      try { await stat(join(dir, file)); return true; } catch { return false; }
    },
    size: sizeOf,
    etag: async (file) => {
      const info = await stat(resolve(file));
      return `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    },
    list: async () => (only !== undefined ? [only] : readdir(dir)),
    read: async (file, offset, length) => {
      const out = new Uint8Array(length);
      await readFile(file, offset, out, false);
      return out;
    },
    readInto: (file, offset, target) => readFile(file, offset, target, true),
  };
}
