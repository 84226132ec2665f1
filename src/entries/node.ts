// Node: the engine and the app on @hono/node-server (`edgeseek serve`).
import { serve, type ServerType } from '@hono/node-server';
import { defaultModelPath } from '../cli/package-root.ts';
import { createEngine, type EngineOptions } from '../engine/engine.ts';
import type { Engine } from '../engine/types.ts';
import { createApp, type AppOptions } from '../server/app.ts';

export interface NodeServerOptions extends Partial<EngineOptions>, AppOptions {
  port?: number;
  hostname?: string;
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
  const engine = await createEngine({ ...options, model: options.model ?? defaultModelPath() });
  const app = createApp(engine, options);
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
