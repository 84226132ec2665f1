#!/usr/bin/env node
// `npm start`: serve the default model (models/default) with the OpenAI API on
// http://localhost:8787 and the playground at /, through `wrangler dev` — the
// real Worker in workerd. Builds the Wasm modules and the browser build first
// if they are missing. EDGESEEK_MODEL_DIR serves another model directory
// instead (HF layout, files ≤ 25 MiB each); PORT changes the port.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = process.env.EDGESEEK_MODEL_DIR ?? join(root, 'models', 'default');
const port = process.env.PORT ?? '8787';
const bin = (name) => join(root, 'node_modules', '.bin', name);

// The Worker imports both SIMD builds (src/wasm.ts).
for (const [target, file] of [['release', 'edgeseek.wasm'], ['relaxed', 'edgeseek-relaxed.wasm']]) {
  if (existsSync(join(root, 'build', file))) continue;
  console.log(`edgeseek: building build/${file} ...`);
  const built = spawnSync(bin('asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', target], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
if (!existsSync(join(root, 'dist', 'browser', 'playground-files.js'))) {
  console.log('edgeseek: building the browser build and the playground (dist/browser/) ...');
  const built = spawnSync(process.execPath, ['scripts/build-browser.js'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
if (!existsSync(join(modelDir, 'config.json'))) {
  console.error(`edgeseek: no model at ${modelDir} (config.json missing). The default model ships in models/default; ` +
    'see README "The default model", or set EDGESEEK_MODEL_DIR to a model directory.');
  process.exit(1);
}

const args = ['dev', '--port', port, '--ip', '127.0.0.1', '--show-interactive-dev-session=false'];
if (process.env.EDGESEEK_MODEL_DIR) args.push('--assets', relative(root, modelDir) || '.');
console.log(`edgeseek: serving ${relative(root, modelDir) || modelDir} on http://localhost:${port}/v1, playground on http://localhost:${port}/ (wrangler dev)`);
const child = spawn(bin('wrangler'), args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
