// Where downloaded model bytes are kept in a page: fixed-size chunks of each
// file, in the Cache API (they survive the visit, so a second visit downloads
// nothing) or, where there is no Cache API or it refuses (an insecure context,
// a full quota), in memory for this load only. A chunk's key names the file's
// URL without its query (signed URLs change it every visit), the file's
// version (size and ETag) and the chunk, so a changed file is never mixed with
// an old one.

export interface FileVersion {
  readonly size: number;
  /** ETag or Last-Modified, '' when the server sends neither. */
  readonly tag: string;
}

/** What is known about a file: its version, or that it does not exist. */
export type FileMeta = FileVersion | { readonly missing: true };

export interface ChunkStore {
  /** 'cache' (Cache API) or 'memory'; 'memory' after the Cache API refused a write. */
  readonly kind: 'cache' | 'memory';
  getChunk(fileUrl: string, version: FileVersion, index: number): Promise<Uint8Array | undefined>;
  /** Whether chunk `index` is stored whole (`bytes` long), without reading it. */
  hasChunk(fileUrl: string, version: FileVersion, index: number, bytes: number): Promise<boolean>;
  putChunk(fileUrl: string, version: FileVersion, index: number, bytes: Uint8Array): Promise<void>;
  /** The file's metadata as last seen (offline visits use it). */
  getMeta(fileUrl: string): Promise<FileMeta | undefined>;
  /** Records the file's metadata; a new version drops the old version's chunks. */
  putMeta(fileUrl: string, meta: FileMeta): Promise<void>;
}

export const DEFAULT_CACHE_NAME = 'edgeseek-models';

/** Set on every cached chunk: its length, read without reading the chunk. */
const BYTES_HEADER = 'X-Edgeseek-Chunk-Bytes';
const withoutQuery = (fileUrl: string): string => { const u = new URL(fileUrl); return `${u.origin}${u.pathname}`; };
const versionKey = (v: FileVersion) => encodeURIComponent(`${v.size}-${v.tag}`);
const chunkKey = (fileUrl: string, v: FileVersion, index: number, chunkBytes: number) =>
  `${withoutQuery(fileUrl)}?edgeseek-version=${versionKey(v)}&edgeseek-chunk=${index}x${chunkBytes}`;
const metaKey = (fileUrl: string) => `${withoutQuery(fileUrl)}?edgeseek-meta`;

function memoryStore(chunkBytes: number): ChunkStore {
  const chunks = new Map<string, Uint8Array>();
  const metas = new Map<string, FileMeta>();
  return {
    kind: 'memory',
    getChunk: async (url, v, i) => chunks.get(chunkKey(url, v, i, chunkBytes)),
    hasChunk: async (url, v, i, bytes) => chunks.get(chunkKey(url, v, i, chunkBytes))?.byteLength === bytes,
    putChunk: async (url, v, i, bytes) => { chunks.set(chunkKey(url, v, i, chunkBytes), bytes); },
    getMeta: async (url) => metas.get(metaKey(url)),
    putMeta: async (url, meta) => { metas.set(metaKey(url), meta); },
  };
}

/** The Cache API store named `cacheName`, or a memory store where caches is missing or cacheName is false. */
export async function openChunkStore(cacheName: string | false, chunkBytes: number): Promise<ChunkStore> {
  const caches = (globalThis as { caches?: CacheStorage }).caches;
  if (cacheName === false || !caches) return memoryStore(chunkBytes);
  let cache: Cache;
  try { cache = await caches.open(cacheName); } catch { return memoryStore(chunkBytes); }
  // After a refused write (quota), chunks go to memory; those already cached are still read from the cache.
  let fallback: ChunkStore | undefined;
  const store: ChunkStore = {
    get kind() { return fallback ? 'memory' : 'cache'; },
    async getChunk(url, v, i) {
      const memory = await fallback?.getChunk(url, v, i);
      if (memory) return memory;
      const response = await cache.match(chunkKey(url, v, i, chunkBytes));
      return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
    },
    async hasChunk(url, v, i, bytes) {
      if (await fallback?.hasChunk(url, v, i, bytes)) return true;
      const response = await cache.match(chunkKey(url, v, i, chunkBytes));
      return Number(response?.headers.get(BYTES_HEADER)) === bytes;
    },
    async putChunk(url, v, i, bytes) {
      if (!fallback) {
        try {
          const headers = { 'Content-Type': 'application/octet-stream', [BYTES_HEADER]: String(bytes.byteLength) };
          await cache.put(chunkKey(url, v, i, chunkBytes), new Response(bytes as Uint8Array<ArrayBuffer>, { headers }));
          return;
        } catch {
          fallback = memoryStore(chunkBytes);
        }
      }
      await fallback.putChunk(url, v, i, bytes);
    },
    async getMeta(url) {
      const response = await cache.match(metaKey(url));
      return response ? (await response.json()) as FileMeta : undefined;
    },
    async putMeta(url, meta) {
      const old = await store.getMeta(url);
      if (old && 'size' in old && !('size' in meta && meta.size === old.size && meta.tag === old.tag)) {
        const stale = `${withoutQuery(url)}?edgeseek-version=${versionKey(old)}&`;
        for (const request of await cache.keys()) if (request.url.startsWith(stale)) await cache.delete(request);
      }
      await cache.put(metaKey(url), new Response(JSON.stringify(meta), { headers: { 'Content-Type': 'application/json' } })).catch(() => undefined);
    },
  };
  return store;
}

/** Deletes the cached files of the model at `url` (every model when no url is given). */
export async function clearModelCache(url?: string, cacheName = DEFAULT_CACHE_NAME): Promise<void> {
  const caches = (globalThis as { caches?: CacheStorage }).caches;
  if (!caches) return;
  if (url === undefined) { await caches.delete(cacheName); return; }
  const cache = await caches.open(cacheName);
  const u = new URL(url);
  const prefix = `${u.origin}${/\.gguf$/i.test(u.pathname) ? u.pathname : u.pathname.replace(/[^/]*$/, '')}`;
  for (const request of await cache.keys()) if (request.url.startsWith(prefix)) await cache.delete(request);
}
