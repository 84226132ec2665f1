#!/usr/bin/env node
// The `edgeseek` command (package bin): the compiled CLI in dist/, built by
// `npm run build` (which `npm install` runs as the package's prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(`edgeseek: ${fileURLToPath(cli)} is missing: the package is not built (an install with scripts skipped, e.g. --ignore-scripts, skips it). Run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}.`);
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
