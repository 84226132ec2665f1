// The playground routes (createApp's `playground` option): the chat page at /
// (playground/ in the repository), its files and the browser build under
// /playground/, and the model's own files under /playground/model/ for the
// page's "in this browser" mode, with Range and ETag so the page downloads in
// chunks and caches. The page is served cross-origin isolated (COOP/COEP), so
// the in-page CPU backend gets its Web Worker threads. With an API key set,
// the model files need it as /v1/* does; the page never contains the key.
import { Hono, type Context } from 'hono';
import { modelFiles, hasSafetensors } from '../model/model-files.ts';
import type { ModelSource } from '../model/source.ts';
import { checkBearer, keyDigest } from './auth.ts';
import { errorResponse, invalidApiKey, notFound } from './errors.ts';

export interface PlaygroundFiles {
  /** A file of the page (index.html, app.js, style.css) or of the browser build (edgeseek.js, *.wasm); undefined when absent. */
  read(name: string): Promise<Uint8Array | undefined>;
}

export interface PlaygroundOptions {
  files: PlaygroundFiles;
  /** The model the engine serves, handed to the page's in-browser mode; without it the page offers the server only. */
  model?: ModelSource;
}

/** Files held in a module as base64 (the Worker's: dist/browser/playground-files.js), decoded once each. */
export function playgroundFilesFromBase64(files: Readonly<Record<string, string>>): PlaygroundFiles {
  const decoded = new Map<string, Uint8Array>();
  return {
    async read(name) {
      if (!Object.hasOwn(files, name)) return undefined;
      let bytes = decoded.get(name);
      if (!bytes) decoded.set(name, bytes = Uint8Array.from(atob(files[name]), (c) => c.charCodeAt(0)));
      return bytes;
    },
  };
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8',
  wasm: 'application/wasm', json: 'application/json',
};
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
/** Bytes per read when a whole model file is streamed. */
const STREAM_CHUNK = 8 * 1024 * 1024;

export function playgroundRoutes(options: PlaygroundOptions & { modelId: string; apiKey?: string }): Hono {
  const app = new Hono();
  const expectedKey = options.apiKey ? keyDigest(options.apiKey) : undefined;
  const model = options.model;
  let served: Promise<string[]> | undefined;
  const servedFiles = () => (served ??= model ? modelFiles(model) : Promise.resolve([]));

  const file = async (c: Context, name: string): Promise<Response> => {
    const bytes = /^[\w.-]+$/.test(name) ? await options.files.read(name) : undefined;
    if (!bytes) return errorResponse(notFound(c.req.method, c.req.path));
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'Content-Type': type, 'Cache-Control': 'no-cache', ...ISOLATED } });
  };

  app.get('/', (c) => file(c, 'index.html'));
  app.get('/playground/config.json', async (c) => {
    const files = await servedFiles();
    const gguf = model && !(await hasSafetensors(model)) ? files.find((f) => f.endsWith('.gguf')) : undefined;
    return c.json({
      model: options.modelId,
      modelUrl: `playground/model/${gguf ?? ''}`,
      inBrowser: files.length > 0,
      apiKeyRequired: expectedKey !== undefined,
    });
  });
  app.get('/playground/model/:file', async (c) => {
    if (expectedKey) {
      const check = await checkBearer(c.req.header('Authorization'), expectedKey);
      if (check !== 'ok') return errorResponse(invalidApiKey(check === 'wrong'));
    }
    const name = c.req.param('file');
    if (!model || !(await servedFiles()).includes(name)) {
      return errorResponse(notFound(c.req.method, c.req.path));
    }
    return modelFileResponse(model, name, c.req.raw);
  });
  app.get('/playground/:file', (c) => file(c, c.req.param('file')));
  return app;
}

/** A model file, whole or the one byte range asked for (206), with its size and ETag; HEAD sends no body. */
async function modelFileResponse(source: ModelSource, name: string, request: Request): Promise<Response> {
  const size = await source.size(name);
  const etag = (await source.etag?.(name)) ?? `W/"${size.toString(16)}"`;
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: etag, 'Cache-Control': 'no-cache',
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get('Range') ?? '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range && (range[1] !== '' || range[2] !== '')) {
    start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    end = range[1] === '' || range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start > end || start >= size) return new Response(null, { status: 416, headers: { ...headers, 'Content-Range': `bytes */${size}` } });
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = String(end - start + 1);
  if (request.method === 'HEAD') return new Response(null, { status, headers });
  let at = start;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const length = Math.min(STREAM_CHUNK, end + 1 - at);
      if (length <= 0) { controller.close(); return; }
      controller.enqueue(await source.read(name, at, length));
      at += length;
    },
  });
  return new Response(body, { status, headers });
}
