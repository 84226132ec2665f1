// Run by test/engine/deno-threads.test.ts under Deno: the multi-threaded CPU
// backend (worker threads over shared Wasm memory) on the golden model.
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { loadModelRunner } from '../../src/engine/runner.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';

const build = new URL('../../build/', import.meta.url);
const module = new WebAssembly.Module(readFileSync(new URL('edgeseek.wasm', build)));
const threadsModule = new WebAssembly.Module(readFileSync(new URL('edgeseek-threads.wasm', build)));
const backend = await createCpuBackend(module, { threads: 2, threadsModule, parallelMinMacs: 0 });
const runner = await loadModelRunner(await fsSource(GOLDEN_DIR), { backend });
const sequence = readGolden().sequences[1];
const seq = runner.newSequence(sequence.ids.length);
const logits = await runner.forward(seq, sequence.ids, { allLogits: true });
const ref = readF32(`${GOLDEN_DIR}/${sequence.logits_file}`);
const V = runner.config.vocabSize;
let worst = 0;
for (let p = 0; p < sequence.ids.length; p++) worst = Math.max(worst, relativeError(logits.subarray(p * V, (p + 1) * V), ref.subarray(p * V, (p + 1) * V)));
runner.dispose();
console.log(JSON.stringify({ worst, positions: sequence.ids.length }));
