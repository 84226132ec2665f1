#!/usr/bin/env node
// `npm run bench [name...]`: the benchmarks, each printing the markdown that
// BENCHMARKS.md records. Names: tokenizer, kernels, thread-scaling, cpu-model, attention-context,
// server, serving, llama-cpp, llamacpp/speed, runtimes, browser, webgpu (default:
// all but webgpu, which wants a real GPU). The peers (llama.cpp, wllama) come from
// bench/peers (`cd bench/peers && npm ci`); browser needs Debian's chromium,
// runtimes Deno and wrangler (both in the dev dependencies).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const all = ['tokenizer', 'kernels', 'thread-scaling', 'cpu-model', 'attention-context', 'server', 'serving', 'llama-cpp', 'llamacpp/speed', 'runtimes', 'browser'];
const names = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const name of names) {
  console.log(`\n## ${name}\n`);
  const run = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', `${name}.ts`)], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) { console.error(`bench ${name} failed (${run.status})`); failed++; }
}
process.exitCode = failed ? 1 : 0;
