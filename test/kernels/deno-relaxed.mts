// Run by test/kernels/deno-relaxed.test.ts under Deno, whose V8 computes
// i32x4.relaxed_dot_i8x16_i7x16_add_s right (Node 20's does not): the kernel
// selection picks the relaxed build with that op, the _dotadd Q4_0 kernel
// and the other int16 kernels meet the float64 reference over exactly the
// activations they multiply, and a quantized golden model runs on the relaxed
// threads build. Prints one JSON report.
import { RELAXED_OPS, relaxedOpsOf, selectKernels } from '../../src/backend/cpu/kernel-build.ts';
import { instantiateKernels } from '../../src/backend/cpu/wasm-instance.ts';
import { loadKernelModulesFromDisk } from '../../src/backend/cpu/wasm-module-node.ts';
import { ACTIVATION_FORMATS } from '../../src/backend/cpu/integer-kernels.ts';
import type { IntegerMatmulKernel } from '../../src/backend/cpu/kernel-exports.ts';
import { loadModelRunner } from '../../src/engine/runner.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { GOLDEN_DIR, readF32, readGolden } from '../support/golden.ts';
import { relativeError } from '../support/logits.ts';
import { matmulRef, quantizeActInt16Ref } from '../ops/reference.ts';
import { allocRegion, matmulCase, poisonedF32, putBytes, putF32, readF32 as readRegion, relError } from './support.ts';

const modules = await loadKernelModulesFromDisk({ threads: true });
const picked = await selectKernels(modules);
const relaxed = await instantiateKernels(modules.relaxed!);
const plain = await instantiateKernels(modules.plain);
const ops = relaxedOpsOf(relaxed.exports);

const kernels: Record<string, number> = {};
for (const [dtype, kernel] of [['q8_0', 'matmul_q8_0_int16'], ['q4_0', 'matmul_q4_0_int16'], ['q4_0', 'matmul_q4_0_int16_dotadd']] as const) {
  for (const [N, K, T] of [[37, 96, 1], [37, 96, 3], [37, 96, 8], [37, 96, 13], [67, 2048, 1], [67, 2048, 13]]) {
    const { weight, x, xStride, outStride } = matmulCase(dtype, N, K, T, 40 + T + K);
    const dense = new Float32Array(T * K);
    for (let t = 0; t < T; t++) dense.set(x.subarray(t * xStride, t * xStride + K), t * K);
    const ref = matmulRef(quantizeActInt16Ref(dense, T, K), T, K, weight.values, N);
    let worst = 0;
    for (const inst of [relaxed, plain]) {
      const w = putBytes(inst, weight.bytes);
      const xr = putF32(inst, x);
      const xq = allocRegion(inst, ACTIVATION_FORMATS.int16.bytes(K, T));
      const out = poisonedF32(inst, T * outStride);
      const acc = allocRegion(inst, ACTIVATION_FORMATS.int16.scratchBytes(T));
      inst.exports.quantize_act_int16(xr.ptr, xStride, T, K, xq.ptr);
      (inst.exports[kernel] as IntegerMatmulKernel)(w.ptr, xq.ptr, out.ptr, outStride, N, K, T, acc.ptr);
      const got = readRegion(inst, out);
      const picked = new Float64Array(T * N);
      for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) picked[t * N + n] = got[t * outStride + n];
      worst = Math.max(worst, relError(picked, ref));
    }
    kernels[`${kernel} N=${N} K=${K} T=${T}`] = worst;
  }
}

// The golden Q8_0 GGUF with int16 activations on the relaxed threads build, 2 threads, every matmul split.
const golden = readGolden();
const runner = await loadModelRunner(await fsSource(`${GOLDEN_DIR}/${golden.q8_0.gguf}`), {
  wasmModule: modules, threads: 2, parallelMinMacs: 0, activations: 'int16',
});
const sequence = golden.q8_0.sequences[1];
const seq = runner.newSequence(sequence.ids.length);
const logits = await runner.forward(seq, sequence.ids, { allLogits: true });
const want = readF32(`${GOLDEN_DIR}/${sequence.logits_file}`);
const V = runner.config.vocabSize;
let modelWorst = 0;
for (let p = 0; p < sequence.ids.length; p++) modelWorst = Math.max(modelWorst, relativeError(logits.subarray(p * V, (p + 1) * V), want.subarray(p * V, (p + 1) * V)));
const build = runner.backend.kernelBuild;
runner.dispose();

console.log(JSON.stringify({ build: picked.build, dotAdd: (ops & RELAXED_OPS.dotAdd) !== 0, kernels, model: { build, worst: modelWorst } }));
