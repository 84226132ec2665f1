// One llama.cpp measurement (node-llama-cpp 3.21.1 from bench/peers, CPU):
// prefill of N prompt tokens in one batch, then M greedy decode steps, on one
// GGUF, the prompt ids the same LCG as `edgeseek bench` uses. Prints JSON
// {prefill_tok_s, decode_tok_s}. Spawned by bench/llamacpp/speed.ts.
// Run: node bench/llamacpp/llamacpp-bench.mjs MODEL.gguf THREADS PROMPT_TOKENS GEN_TOKENS
import { fileURLToPath, pathToFileURL } from 'node:url';

const [modelPath, threadsArg, promptArg, genArg] = process.argv.slice(2);
const root = fileURLToPath(new URL('../..', import.meta.url));
const { getLlama } = await import(pathToFileURL(`${root}/bench/peers/node_modules/node-llama-cpp/dist/index.js`).href);
const threads = Number(threadsArg);
const promptTokens = Number(promptArg);
const genTokens = Number(genArg);
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: promptTokens + genTokens + 8, threads, batchSize: promptTokens });
const sequence = context.getSequence();
const vocab = model.tokens.vocabSize ?? model.fileInsights.tokens?.vocabSize;
const ids = [];
let state = 12345;
for (let i = 0; i < promptTokens; i++) { state = (state * 1103515245 + 12345) % 2 ** 31; ids.push(state % vocab); }
const greedy = { generateNext: { token: true, options: { temperature: 0 } } };
const t0 = performance.now();
let out = await sequence.controlledEvaluate(ids.map((t, i) => (i === ids.length - 1 ? [t, greedy] : t)));
const prefillMs = performance.now() - t0;
let next = out[ids.length - 1].next.token;
const t1 = performance.now();
for (let i = 0; i < genTokens; i++) {
  out = await sequence.controlledEvaluate([[next, greedy]]);
  next = out[0].next.token;
}
const decodeMs = performance.now() - t1;
process.stdout.write(`${JSON.stringify({ prefill_tok_s: promptTokens / (prefillMs / 1000), decode_tok_s: genTokens / (decodeMs / 1000) })}\n`);
await context.dispose();
await model.dispose();
