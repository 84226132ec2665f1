// Node: the engine and the app on @hono/node-server (`edgeseek serve`), with
// the playground at / unless turned off.
import { serve, type ServerType } from '@hono/node-server';
import { defaultModelPath } from '../cli/package-root.ts';
import { createEngine, resolveSource, type EngineOptions } from '../engine/engine.ts';
import type { Engine } from '../engine/types.ts';
import { createApp, type AppOptions } from '../server/app.ts';
import { playgroundFilesOnDisk } from './playground-files.ts';

export interface NodeServerOptions extends Partial<EngineOptions>, Omit<AppOptions, 'playground'> {
  port?: number;
  hostname?: string;
  /** The playground page at / (default true). */
  playground?: boolean;
}

export interface NodeServer {
  engine: Engine;
  server: ServerType;
  /** The port actually bound (port 0 picks a free one). */
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function serveNode(options: NodeServerOptions = {}): Promise<NodeServer> {
  const model = await resolveSource(options.model ?? defaultModelPath());
  const engine = await createEngine({ ...options, model });
  const app = createApp(engine, { ...options, playground: options.playground !== false && { files: playgroundFilesOnDisk(), model } });
  const hostname = options.hostname ?? '127.0.0.1';
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname }, (info) => resolve({ server, port: info.port }));
  });
  return {
    engine, server, port, url: `http://${hostname}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.dispose();
    },
  };
}
