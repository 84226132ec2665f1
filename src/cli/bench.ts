// `edgeseek bench --model PATH [--backend ...] [--threads N] [--activations f32|int16] [--simd auto|relaxed|plain]
//   [--prompt-tokens N] [--gen-tokens N]`
// → JSON with prefill and decode tokens/s, weight and KV-cache bytes, and the
// decode memory-bandwidth bound: the weight bytes one decode step reads ÷ the
// single-thread read bandwidth measured in this same run.
import { Args } from './args.ts';
import { benchPromptIds } from './bench-prompt.ts';
import { openRunnerFromArgs, RUNNER_OPTIONS } from './open-runner.ts';
import { measureReadBandwidth } from '../backend/cpu/bandwidth.ts';
import { loadWasmModuleFromDisk } from '../backend/cpu/wasm-module-node.ts';

export const options = [...RUNNER_OPTIONS, 'prompt-tokens', 'gen-tokens', 'max-batch'];

export async function run(argv: string[]): Promise<void> {
  const args = new Args(argv, options);
  const promptTokens = args.integer('prompt-tokens', 128, 1);
  const genTokens = args.integer('gen-tokens', 32, 0);
  const runner = await openRunnerFromArgs(args, { maxBatch: Math.min(promptTokens, args.integer('max-batch', 128, 1)) });
  try {
    const c = runner.config;
    const ids = benchPromptIds(promptTokens, c.vocabSize);
    const seq = runner.newSequence(promptTokens + genTokens);
    const t0 = performance.now();
    let logits = await runner.forward(seq, ids);
    const prefillMs = performance.now() - t0;
    const decodeStart = performance.now();
    for (let i = 0; i < genTokens; i++) {
      let best = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
      logits = await runner.forward(seq, [best]);
    }
    const decodeMs = performance.now() - decodeStart;
    runner.release(seq);
    // Peak resident memory of load + prefill + decode, read before the bandwidth probe adds its buffer.
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const bandwidth = await measureReadBandwidth(await loadWasmModuleFromDisk());
    // No decoded tokens, no decode figure (null rather than a measured-looking 0).
    const decodeTokS = genTokens > 0 ? genTokens / (decodeMs / 1000) : null;
    const boundTokS = bandwidth / runner.decodeWeightBytes;
    const mhaBytesPerToken = c.numLayers * c.numHeads * (c.qkNopeHeadDim + c.qkRopeHeadDim + c.vHeadDim) * 4;
    const report = {
      backend: runner.backend.name,
      threads: args.number('threads') ?? 1,
      activations: runner.activations,
      cpu_kernels: runner.backend.kernelBuild ?? null,
      prompt_tokens: promptTokens,
      gen_tokens: genTokens,
      prefill_tok_s: promptTokens / (prefillMs / 1000),
      decode_tok_s: decodeTokS,
      weight_bytes: runner.weightBytes,
      peak_rss_bytes: peakRssBytes,
      kv_cache_bytes: (promptTokens + genTokens) * runner.kvBytesPerToken,
      peak_rss_over_weights_and_cache: peakRssBytes / (runner.weightBytes + (promptTokens + genTokens) * runner.kvBytesPerToken),
      wasm_memories: (runner.backend as { shardCount?: number }).shardCount ?? null,
      decode_weight_bytes_per_token: runner.decodeWeightBytes,
      kv_bytes_per_token: runner.kvBytesPerToken,
      kv_values_per_layer_token: c.kvLoraRank + c.qkRopeHeadDim,
      mha_kv_bytes_per_token: mhaBytesPerToken,
      kv_reduction_vs_mha: 1 - runner.kvBytesPerToken / mhaBytesPerToken,
      read_bandwidth_bytes_s: bandwidth,
      decode_bound_tok_s: boundTokS,
      decode_fraction_of_bound: decodeTokS === null ? null : decodeTokS / boundTokS,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    runner.dispose();
  }
}
