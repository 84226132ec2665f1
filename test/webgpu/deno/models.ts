// Whole models on Deno's navigator.gpu against their reference logits: the
// golden tiny-a (its F32 safetensors and Q8_0 GGUF), or every file of one
// fixture model directory (test/fixtures/models/<dir>: each config feature and
// weight format). Run by test/webgpu/deno/run.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadWasmModuleFromDisk } from '../../../src/backend/cpu/wasm-module-node.ts';
import { loadModelRunner } from '../../../src/engine/runner.ts';
import { fsSource } from '../../../src/model/source-fs.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../../support/golden.ts';
import { relativeError } from '../../support/logits.ts';

export interface ModelResult { name: string; worst: number; bound: number }

interface ModelCase { label: string; path: string; ids: number[]; logits: string; bound: number }

const FIXTURES = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

function goldenCases(): ModelCase[] {
  const golden = readGolden();
  return [
    { label: 'tiny-a safetensors F32', path: GOLDEN_DIR, ids: golden.sequences[0].ids, logits: `${GOLDEN_DIR}/${golden.sequences[0].logits_file}`, bound: 1e-4 },
    { label: 'tiny-a GGUF Q8_0', path: `${GOLDEN_DIR}/${golden.q8_0.gguf}`, ids: golden.q8_0.sequences[0].ids, logits: `${GOLDEN_DIR}/${golden.q8_0.sequences[0].logits_file}`, bound: 1e-3 },
  ];
}

/** Every file of a fixture model: the references are over the stored weights, so the F32 bound holds (≤ 5e-3 for f16 activations' files). */
function fixtureCases(dir: string): ModelCase[] {
  const reference = JSON.parse(readFileSync(`${FIXTURES}/${dir}/reference.json`, 'utf8')) as { sets: { sources: string[]; sequences: { ids: number[]; logits_file: string }[] }[] };
  return reference.sets.flatMap((set) => set.sources.map((source) => ({
    label: `${dir} ${source === '.' ? 'safetensors' : source}`,
    path: source === '.' ? `${FIXTURES}/${dir}` : `${FIXTURES}/${dir}/${source}`,
    ids: set.sequences[0].ids,
    logits: `${FIXTURES}/${dir}/${set.sequences[0].logits_file}`,
    bound: source.includes('f16') ? 5e-3 : 1e-4,
  })));
}

/** `tiny-a` for the golden model, else a directory of test/fixtures/models. */
export async function modelChecks(name: string, gpu: GPU): Promise<ModelResult[]> {
  const results: ModelResult[] = [];
  for (const model of name === 'tiny-a' ? goldenCases() : fixtureCases(name)) {
    // navigator.gpu, not test/support's Dawn: the model runs on Deno's own WebGPU.
    const runner = await loadModelRunner(await fsSource(model.path), { backend: 'webgpu', wasmModule: await loadWasmModuleFromDisk(), gpu });
    const seq = runner.newSequence(model.ids.length);
    const logits = await runner.forward(seq, model.ids, { allLogits: true });
    const vocab = runner.config.vocabSize;
    runner.dispose();
    const reference = readF32(model.logits);
    let worst = 0;
    for (let p = 0; p < model.ids.length; p++) {
      worst = Math.max(worst, relativeError(logits.subarray(p * vocab, (p + 1) * vocab), reference.subarray(p * vocab, (p + 1) * vocab)));
    }
    results.push({ name: `model ${model.label} (${model.ids.length} tokens)`, worst, bound: model.bound });
  }
  return results;
}
