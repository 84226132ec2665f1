// Deno entry of the WebGPU checks on navigator.gpu (wgpu on lavapipe Vulkan,
// with shader-f16). `deno run -A run.ts kernels` runs the kernel checks;
// `deno run -A run.ts model <tiny-a | fixture dir>` one model's files. Prints
// one JSON line that test/webgpu/deno.test.ts asserts on:
//   { adapter, shaderF16, featureLevel, results: [{ name, rel, bound }], models: [{ name, worst, bound }] }
// One process per case keeps each case small enough to time on its own.
import { createWebGpuBackend } from '../../../src/backend/webgpu/webgpu-backend.ts';
import { kernelChecks } from './kernels.ts';
import { modelChecks } from './models.ts';

const [what, name] = Deno.args;
if (!(what === 'kernels' || (what === 'model' && name))) throw new Error(`usage: run.ts kernels | model <name>, got '${Deno.args.join(' ')}'`);
const gpu = (navigator as { gpu?: GPU }).gpu;
if (!gpu) throw new Error('Deno: no navigator.gpu');
const b = await createWebGpuBackend(gpu);
const results = what === 'kernels' ? await kernelChecks(b) : [];
const models = what === 'model' ? await modelChecks(name, gpu) : [];
console.log(JSON.stringify({ adapter: b.gpu.description, shaderF16: b.gpu.shaderF16, featureLevel: b.gpu.featureLevel, results, models }));
b.dispose();
