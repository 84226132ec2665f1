#!/usr/bin/env node
// `npm run build:browser`: the browser build, dist/browser/edgeseek.js (ESM,
// from src/browser.ts) with the .wasm files of build/ copied beside it, where
// the bundle fetches them (src/browser/wasm-module.ts).
//
// The shared src/ reaches runtime-only code (files, worker_threads) through a
// few modules that each have a browser counterpart with the same exports;
// SUBSTITUTES swaps them, and any Node built-in still reached fails the build
// naming the importer. Every file of shaders/ is inlined (read from the
// directory, so a new shader needs no change here).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'browser');

/** Node/Deno module → its browser counterpart (same exports). */
export const SUBSTITUTES = {
  'src/backend/cpu/wasm-module-node.ts': 'src/browser/wasm-module.ts',
  'src/backend/cpu/threads/kernel-workers-node.ts': 'src/browser/kernel-workers.ts',
  'src/backend/webgpu/shader-files.ts': 'src/browser/shader-files.ts',
  'src/model/source-fs.ts': 'src/browser/source-path.ts',
};

const browserModules = {
  name: 'edgeseek-browser-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
      const target = SUBSTITUTES[relative(root, resolve(args.resolveDir, args.path)).split('\\').join('/')];
      return target ? { path: join(root, target) } : undefined;
    });
    // A package whose `exports` lead to its Node build gets the file its `browser` field maps that build to.
    b.onResolve({ filter: /^[@a-z]/ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (resolved.errors.length > 0 || !resolved.path.includes('node_modules')) return resolved;
      const browserFile = browserFieldFor(resolved.path);
      return browserFile ? { path: browserFile } : resolved;
    });
    b.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} (a Node built-in) is imported by ${relative(root, args.importer)}: give that module a browser counterpart in SUBSTITUTES` }],
    }));
  },
};

/** The package.json `browser` field's replacement for a resolved file of a package, if any. */
function browserFieldFor(file) {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  const browser = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).browser;
  const mapped = typeof browser === 'object' && browser !== null ? browser[`./${relative(dir, file).split('\\').join('/')}`] : undefined;
  return typeof mapped === 'string' ? join(dir, mapped) : undefined;
}

function shaderSources() {
  const dir = join(root, 'shaders');
  const files = {};
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.wgsl')).sort()) files[name] = readFileSync(join(dir, name), 'utf8');
  return files;
}

export async function buildBrowser() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [join(root, 'src', 'browser.ts')],
    outfile: join(out, 'edgeseek.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    define: { __EDGESEEK_SHADERS__: JSON.stringify(shaderSources()) },
    plugins: [browserModules],
  });
  writeFileSync(join(out, 'meta.json'), JSON.stringify(result.metafile));
  const wasm = readdirSync(join(root, 'build')).filter((f) => f.endsWith('.wasm'));
  if (!wasm.includes('edgeseek.wasm')) throw new Error('build/edgeseek.wasm is missing: run `npm run build:wasm` first');
  for (const file of wasm) copyFileSync(join(root, 'build', file), join(out, file));
  return { files: ['edgeseek.js', ...wasm], metafile: result.metafile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files } = await buildBrowser();
  console.log(`edgeseek: browser build in dist/browser/ (${files.join(', ')})`);
}
