// The edgeseek side of bench/browser.ts, bundled for the page by esbuild: the
// CPU backend on the kernel builds the page fetches (relaxed SIMD where its
// self-test passes, as in a Worker), the model over HTTP, one thread (the
// thread pool needs node:worker_threads). Exposes globalThis.edgeseekBench.
import type { KernelModules } from '../../src/backend/cpu/kernel-build.ts';
import { benchPromptIds } from '../../src/cli/bench-prompt.ts';
import { fetchSource } from '../../src/entries/fetch-source.ts';
import { loadModelRunner } from '../../src/engine/runner.ts';
import type { ModelRunner } from '../../src/engine/runner-types.ts';

let runner: ModelRunner | undefined;

async function compile(url: string): Promise<WebAssembly.Module | undefined> {
  const bytes = await (await fetch(url)).arrayBuffer();
  return WebAssembly.validate(bytes) ? WebAssembly.compile(bytes) : undefined;
}

(globalThis as unknown as { edgeseekBench: unknown }).edgeseekBench = {
  /** Loads the model directory at `base` (HTTP); returns what runs. */
  async load(base: string): Promise<{ kernels: string; activations: string }> {
    const modules: KernelModules = { plain: (await compile('/build/edgeseek.wasm'))!, relaxed: await compile('/build/edgeseek-relaxed.wasm') };
    runner = await loadModelRunner(fetchSource(new URL(base, location.href).toString(), (u, init) => fetch(u, init)), { wasmModule: modules });
    return { kernels: runner.backend.kernelBuild ?? 'none', activations: runner.activations };
  },
  /** Prefill of P benchmark-prompt tokens, then G greedy decode steps: tokens per second of each. */
  async run(P: number, G: number): Promise<{ prefill: number; decode: number }> {
    const r = runner!;
    const ids = benchPromptIds(P, r.config.vocabSize);
    const seq = r.newSequence(P + G);
    let t0 = performance.now();
    let logits = await r.forward(seq, ids);
    const prefill = P / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (let i = 0; i < G; i++) {
      let best = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
      logits = await r.forward(seq, [best]);
    }
    const decode = G / ((performance.now() - t0) / 1000);
    r.release(seq);
    return { prefill, decode };
  },
  dispose(): void { runner?.dispose(); runner = undefined; },
};
