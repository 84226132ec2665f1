// The pages the browser tests load: the browser build (dist/browser/ at
// /dist/) and the golden model, served by a local static server, with a page
// at / that imports the bundle as window.edgeseek.
import { fileURLToPath } from 'node:url';
import { GOLDEN_DIR } from '../../support/golden.ts';
import { startStaticServer, type StaticServer } from '../../support/static-server.ts';

export const DIST_BROWSER = fileURLToPath(new URL('../../../dist/browser/', import.meta.url));

const IMPORT_PAGE = `<!doctype html><meta charset="utf-8"><title>edgeseek test</title>
<script type="module">import * as edgeseek from '/dist/edgeseek.js'; window.edgeseek = edgeseek; window.ready = true;</script>`;

/** /tiny-a/ (HF layout + GGUFs), /gguf-only/ (a directory holding only model.gguf), /dist/, and extra routes. */
export function startPageServer(options: { isolated?: boolean; routes?: Record<string, string> } = {}): Promise<StaticServer> {
  return startStaticServer({
    isolated: options.isolated,
    routes: { '/dist/': DIST_BROWSER, '/tiny-a/': GOLDEN_DIR, '/gguf-only/model.gguf': `${GOLDEN_DIR}/model.gguf`, ...options.routes },
    pages: { '/': IMPORT_PAGE },
  });
}
