// A local static file server for tests: serves `routes` (URL prefix → directory
// or single file) with Range, HEAD and ETag, optionally with the COOP/COEP
// headers that make a page cross-origin isolated, and logs every request so a
// test can say which files were fetched and how many body bytes were sent.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.wasm': 'application/wasm',
};

export interface RequestRecord { method: string; path: string; status: number; bodyBytes: number; range?: string }

export interface StaticServer {
  url: string;
  requests: RequestRecord[];
  /** Requests whose path starts with this get no answer (the connection is dropped): the network is down for them. */
  unreachable?: string;
  close(): Promise<void>;
}

export interface StaticServerOptions {
  /** URL path prefix ('/model/') → a directory, or an exact path ('/m.gguf') → a file. */
  routes: Record<string, string>;
  /** Send COOP same-origin + COEP require-corp (a cross-origin isolated page). */
  isolated?: boolean;
  /** Extra responses by exact path (a test page's HTML). */
  pages?: Record<string, string>;
  /** Behave like servers that ignore Range (always 200, whole file) or refuse HEAD (405). */
  noRanges?: boolean;
  noHead?: boolean;
}

function resolve(routes: Record<string, string>, path: string): string | undefined {
  for (const [prefix, target] of Object.entries(routes)) {
    if (path === prefix) return target.endsWith('/') ? undefined : target;
    if (prefix.endsWith('/') && path.startsWith(prefix)) {
      const rest = normalize(decodeURIComponent(path.slice(prefix.length)));
      if (rest.startsWith('..')) return undefined;
      return join(target, rest);
    }
  }
  return undefined;
}

export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const requests: RequestRecord[] = [];
  const self: Partial<StaticServer> = {};
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (self.unreachable !== undefined && path.startsWith(self.unreachable)) { req.socket.destroy(); return; }
    const record: RequestRecord = { method: req.method ?? 'GET', path, status: 200, bodyBytes: 0, range: req.headers.range };
    requests.push(record);
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (options.isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    const page = options.pages?.[path];
    if (page !== undefined) {
      record.bodyBytes = Buffer.byteLength(page);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES['.html'] }).end(page);
      return;
    }
    if (options.noHead && req.method === 'HEAD') {
      record.status = 405;
      res.writeHead(405, headers).end();
      return;
    }
    const file = resolve(options.routes, path);
    let size: number;
    let mtime: number;
    try {
      const info = statSync(file ?? '');
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
      mtime = info.mtimeMs;
    } catch {
      record.status = 404;
      res.writeHead(404, headers).end();
      return;
    }
    Object.assign(headers, {
      'Content-Type': TYPES[extname(file!)] ?? 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"${size.toString(16)}-${Math.floor(mtime).toString(16)}"`,
    });
    const range = options.noRanges ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        record.status = 416;
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
        return;
      }
      record.status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['Content-Length'] = String(end - start + 1);
    res.writeHead(record.status, headers);
    if (req.method === 'HEAD' || size === 0) { res.end(); return; }
    record.bodyBytes = end - start + 1;
    createReadStream(file!, { start, end }).pipe(res);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  return Object.assign(self, {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
  });
}
