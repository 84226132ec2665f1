// Model files over HTTP: a URL directory, the URL of one .gguf file, or a
// Workers static-assets binding (`env.ASSETS.fetch`). Byte ranges use Range
// requests; a server that answers 200 with the whole file instead is handled
// by keeping that file in memory.
import type { ModelSource } from '../model/source.ts';

export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

/** A model location: a directory URL, or one .gguf file in it (then the only file there is). */
export interface ModelLocation {
  /** The directory, ending in '/'. */
  readonly root: string;
  /** Set when the location names a single .gguf file. */
  readonly only?: string;
  /** The URL of a file of the model. */
  url(file: string): string;
}

export function modelLocation(base: string): ModelLocation {
  const parsed = new URL(base);
  const name = parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1);
  if (!/\.gguf$/i.test(name)) {
    const root = base.endsWith('/') ? base : `${base}/`;
    return { root, url: (file) => new URL(file, root).toString() };
  }
  // The file's own URL is kept whole (a signed URL's query string included).
  const only = decodeURIComponent(name);
  const root = new URL('.', parsed).toString();
  return { root, only, url: (file) => (file === only ? base : new URL(file, root).toString()) };
}

export function fetchSource(base: string, fetcher: Fetcher, label = base): ModelSource {
  const location = modelLocation(base);
  const sizes = new Map<string, Promise<number | undefined>>();
  const etags = new Map<string, string>();
  const whole = new Map<string, Promise<Uint8Array>>();
  const url = location.url;
  const only = location.only;

  const probe = (file: string): Promise<number | undefined> => {
    if (only !== undefined && file !== only) return Promise.resolve(undefined);
    let known = sizes.get(file);
    if (!known) {
      known = (async () => {
        const response = await fetcher(url(file), { headers: { Range: 'bytes=0-0' } });
        if (response.status === 404) { await response.body?.cancel(); return undefined; }
        const etag = response.headers.get('ETag');
        if (etag) etags.set(file, etag);
        if (response.status === 206) {
          await response.body?.cancel();
          const total = /\/(\d+)$/.exec(response.headers.get('Content-Range') ?? '')?.[1];
          if (total !== undefined) return Number(total);
        }
        if (!response.ok && response.status !== 206) throw new Error(`${label}/${file}: HTTP ${response.status}`);
        const bytes = new Uint8Array(await response.arrayBuffer());
        whole.set(file, Promise.resolve(bytes));
        return bytes.byteLength;
      })();
      sizes.set(file, known);
    }
    return known;
  };

  const size = async (file: string): Promise<number> => {
    const n = await probe(file);
    if (n === undefined) throw new Error(`${label}: model file ${file} not found`);
    return n;
  };

  return {
    label,
    has: async (file) => (await probe(file)) !== undefined,
    size,
    list: only === undefined ? undefined : async () => [only],
    etag: async (file) => { await probe(file); return etags.get(file); },
    async read(file, offset, length) {
      const total = await size(file);
      if (offset + length > total) throw new Error(`${label}/${file}: read of ${length} bytes at ${offset} past the end (${total} bytes)`);
      if (length === 0) return new Uint8Array(0);
      const cached = whole.get(file);
      if (cached) return (await cached).subarray(offset, offset + length);
      const response = await fetcher(url(file), { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
      if (response.status === 206) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (bytes.byteLength !== length) throw new Error(`${label}/${file}: asked for ${length} bytes at ${offset}, got ${bytes.byteLength}`);
        return bytes;
      }
      if (!response.ok) throw new Error(`${label}/${file}: HTTP ${response.status}`);
      const all = new Uint8Array(await response.arrayBuffer());
      whole.set(file, Promise.resolve(all));
      return all.subarray(offset, offset + length);
    },
  };
}

/** An http(s) URL of a model directory or of a .gguf file. */
export function urlSource(base: string): ModelSource {
  return fetchSource(base, (u, init) => fetch(u, init));
}

/** The subset of an R2 bucket binding this needs. */
export interface R2BucketLike {
  head(key: string): Promise<{ size: number } | null>;
  get(key: string, options?: { range?: { offset: number; length: number } }): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** Model files as objects `${prefix}${file}` in an R2 bucket, or the one object `prefix` when it names a .gguf. */
export function r2Source(bucket: R2BucketLike, prefix = '', label = `r2:${prefix}`): ModelSource {
  const only = /\.gguf$/i.test(prefix) ? prefix.slice(prefix.lastIndexOf('/') + 1) : undefined;
  const key = (file: string) => (only === undefined ? prefix + file : prefix);
  const heads = new Map<string, Promise<number | undefined>>();
  const head = (file: string) => {
    if (only !== undefined && file !== only) return Promise.resolve(undefined);
    let known = heads.get(file);
    if (!known) heads.set(file, known = bucket.head(key(file)).then((o) => o?.size));
    return known;
  };
  const size = async (file: string) => {
    const n = await head(file);
    if (n === undefined) throw new Error(`${label}: model file ${file} not found`);
    return n;
  };
  return {
    label,
    has: async (file) => (await head(file)) !== undefined,
    size,
    list: only === undefined ? undefined : async () => [only],
    async read(file, offset, length) {
      const total = await size(file);
      if (offset + length > total) throw new Error(`${label}/${file}: read of ${length} bytes at ${offset} past the end (${total} bytes)`);
      if (length === 0) return new Uint8Array(0);
      const object = await bucket.get(key(file), { range: { offset, length } });
      if (!object) throw new Error(`${label}: model file ${file} disappeared while loading`);
      return new Uint8Array(await object.arrayBuffer());
    },
  };
}
