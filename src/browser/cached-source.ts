// A model at a URL, for a page: every file of the model (model-files.ts) is
// downloaded first, chunk by chunk with Range requests (so a multi-GB file
// never sits whole in memory and an interrupted download resumes), with
// progress in bytes and files, into a chunk store (chunk-store.ts: the Cache
// API, so a second visit downloads nothing). Loading then reads from the store.
// Each visit asks the server for each file's size and ETag (HEAD, no body) and
// downloads again only what changed; offline, what the store holds is used.
import { modelLocation, type Fetcher } from '../entries/fetch-source.ts';
import { modelFiles } from '../model/model-files.ts';
import type { ModelSource } from '../model/source.ts';
import { DEFAULT_CACHE_NAME, openChunkStore, type ChunkStore, type FileMeta, type FileVersion } from './chunk-store.ts';

export interface DownloadProgress {
  /** The file being downloaded (or checked in the cache). */
  file: string;
  /** Bytes of all model files present so far (from the network or the cache), and their total. */
  loaded: number;
  total: number;
  /** Of `loaded`, the bytes that came from the cache. */
  fromCache: number;
  filesLoaded: number;
  filesTotal: number;
}

export interface ModelUrlOptions {
  /** fetch for the model files (add headers, credentials). Default: globalThis.fetch. */
  fetch?: Fetcher;
  /** The Cache API cache to keep the files in; false keeps them in memory for this load only. */
  cache?: string | false;
  /** Bytes per Range request and per cached chunk. Default 16 MiB. */
  chunkBytes?: number;
  onProgress?: (progress: DownloadProgress) => void;
}

export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

interface Remote { meta(file: string): Promise<FileMeta> }

/** Size and version from the server (HEAD, or a one-byte range where HEAD is refused); the stored metadata when offline. */
function remoteFiles(location: ReturnType<typeof modelLocation>, fetcher: Fetcher, store: ChunkStore): Remote {
  const known = new Map<string, Promise<FileMeta>>();
  const ask = async (file: string): Promise<FileMeta> => {
    if (location.only !== undefined && file !== location.only) return { missing: true };
    const url = location.url(file);
    let response: Response;
    try {
      response = await fetcher(url, { method: 'HEAD' });
      if (response.status === 405 || response.status === 501) response = await fetcher(url, { headers: { Range: 'bytes=0-0' } });
    } catch (error) {
      const stored = await store.getMeta(url);
      if (stored) return stored;
      throw new Error(`${url}: cannot reach the model file (${(error as Error).message}) and no copy is cached`);
    }
    await response.body?.cancel();
    if (response.status === 404 || response.status === 410) { await store.putMeta(url, { missing: true }); return { missing: true }; }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}${response.status === 401 || response.status === 403 ? ' (the server wants credentials: pass a fetch that sends them)' : ''}`);
    const total = /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '')?.[1] ?? response.headers.get('Content-Length');
    if (total === null) throw new Error(`${url}: the server sends no Content-Length, so the file cannot be read by range`);
    const meta: FileVersion = { size: Number(total), tag: response.headers.get('ETag') ?? response.headers.get('Last-Modified') ?? '' };
    await store.putMeta(url, meta);
    return meta;
  };
  return {
    meta(file) {
      let meta = known.get(file);
      if (!meta) known.set(file, meta = ask(file));
      return meta;
    },
  };
}

/** Reads the body of a range (or whole-file) response into `out`, reporting each network read. */
async function readBody(response: Response, out: Uint8Array, onBytes: (n: number) => void): Promise<number> {
  if (!response.body) return 0;
  const reader = response.body.getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return at;
    if (at + value.byteLength > out.byteLength) { await reader.cancel(); return at + value.byteLength; }
    out.set(value, at);
    at += value.byteLength;
    onBytes(value.byteLength);
  }
}

/** An absolute URL, or one relative to the page (or worker) this runs in. */
export function pageUrl(url: string | URL): string {
  const base = (globalThis as { document?: { baseURI: string } }).document?.baseURI ?? (globalThis as { location?: { href: string } }).location?.href;
  return new URL(String(url), base).toString();
}

/** The model at `url` (a directory, or a .gguf file; relative to the page), downloaded into the chunk store with progress. */
export async function openModelUrl(url: string, options: ModelUrlOptions = {}): Promise<ModelSource> {
  const fetcher: Fetcher = options.fetch ?? ((u, init) => fetch(u, init));
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const location = modelLocation(url = pageUrl(url));
  const store = await openChunkStore(options.cache ?? DEFAULT_CACHE_NAME, chunkBytes);
  const remote = remoteFiles(location, fetcher, store);
  const recent = new Map<string, Uint8Array>(); // the last chunks read (loading reads tensors in file order)

  const version = async (file: string): Promise<FileVersion> => {
    const meta = await remote.meta(file);
    if ('missing' in meta) throw new Error(`${location.url(file)}: model file not found (HTTP 404)`);
    return meta;
  };
  const chunkLength = (v: FileVersion, index: number) => Math.min(chunkBytes, v.size - index * chunkBytes);

  /**
   * Fetches chunk `index` and stores it; a server that ignores Range sends the
   * whole file instead, and then every chunk of it is stored (`whole`).
   */
  const fetchChunk = async (file: string, v: FileVersion, index: number, onBytes: (n: number) => void = () => {}): Promise<{ bytes: Uint8Array; whole: boolean }> => {
    const fileUrl = location.url(file);
    const start = index * chunkBytes;
    const length = chunkLength(v, index);
    let response: Response;
    try {
      response = await fetcher(fileUrl, { headers: { Range: `bytes=${start}-${start + length - 1}` } });
    } catch (error) {
      throw new Error(`${fileUrl}: download failed at byte ${start} (${(error as Error).message})`);
    }
    if (response.status === 404) throw new Error(`${fileUrl}: model file not found (HTTP 404)`);
    if (response.status === 200) {
      // No range support: the whole file comes; every chunk of it is stored on the way.
      const whole = new Uint8Array(v.size);
      const got = await readBody(response, whole, onBytes);
      if (got !== v.size) throw new Error(`${fileUrl}: the download has ${got} bytes, the server announced ${v.size} (cut short or changed)`);
      for (let i = 0; i * chunkBytes < v.size; i++) await store.putChunk(fileUrl, v, i, whole.slice(i * chunkBytes, i * chunkBytes + chunkLength(v, i)));
      return { bytes: whole.slice(start, start + length), whole: true };
    }
    if (response.status !== 206) throw new Error(`${fileUrl}: HTTP ${response.status} for bytes ${start}-${start + length - 1}`);
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '');
    if (!range || Number(range[1]) !== start || Number(range[3]) !== v.size) {
      await response.body?.cancel();
      throw new Error(`${fileUrl}: asked for bytes ${start}-${start + length - 1} of ${v.size}, got range ${response.headers.get('Content-Range')} (the file changed on the server?)`);
    }
    const bytes = new Uint8Array(length);
    const got = await readBody(response, bytes, onBytes);
    if (got !== length) throw new Error(`${fileUrl}: bytes ${start}-${start + length - 1}: got ${got} of ${length} (download cut short)`);
    await store.putChunk(fileUrl, v, index, bytes);
    return { bytes, whole: false };
  };

  const chunk = async (file: string, index: number): Promise<Uint8Array> => {
    const key = `${file}#${index}`;
    const hit = recent.get(key);
    if (hit) return hit;
    const v = await version(file);
    let bytes = await store.getChunk(location.url(file), v, index);
    if (!bytes || bytes.byteLength !== chunkLength(v, index)) bytes = (await fetchChunk(file, v, index)).bytes;
    recent.set(key, bytes);
    for (const old of recent.keys()) if (recent.size > 2) recent.delete(old);
    return bytes;
  };

  const readInto = async (file: string, offset: number, target: Uint8Array): Promise<void> => {
    const v = await version(file);
    if (offset + target.byteLength > v.size) {
      throw new Error(`${location.url(file)}: read of ${target.byteLength} bytes at ${offset} past the end (${v.size} bytes)`);
    }
    for (let at = 0; at < target.byteLength;) {
      const index = Math.floor((offset + at) / chunkBytes);
      const bytes = await chunk(file, index);
      const from = offset + at - index * chunkBytes;
      const n = Math.min(bytes.byteLength - from, target.byteLength - at);
      target.set(bytes.subarray(from, from + n), at);
      at += n;
    }
  };

  const source: ModelSource = {
    label: url,
    has: async (file) => !('missing' in (await remote.meta(file))),
    size: async (file) => (await version(file)).size,
    list: location.only === undefined ? undefined : async () => [location.only!],
    read: async (file, offset, length) => { const out = new Uint8Array(length); await readInto(file, offset, out); return out; },
    readInto,
  };

  // Download everything before loading, so progress has a total and loading never waits on the network.
  const files = await modelFiles(source);
  const versions = await Promise.all(files.map(version));
  const progress: DownloadProgress = { file: files[0], loaded: 0, total: versions.reduce((a, v) => a + v.size, 0), fromCache: 0, filesLoaded: 0, filesTotal: files.length };
  const report = () => options.onProgress?.({ ...progress });
  report();
  for (const [f, file] of files.entries()) {
    const v = versions[f];
    progress.file = file;
    const fileStart = progress.loaded;
    for (let index = 0; index * chunkBytes < v.size; index++) {
      const length = chunkLength(v, index);
      if (await store.hasChunk(location.url(file), v, index, length)) {
        progress.loaded += length;
        progress.fromCache += length;
      } else if ((await fetchChunk(file, v, index, (n) => { progress.loaded += n; report(); })).whole) {
        progress.loaded = fileStart + v.size;
        break;
      }
      report();
    }
    progress.filesLoaded++;
    report();
  }
  return source;
}
