// The llama.cpp side of bench/serving.ts: node-llama-cpp 3.21.1 (native
// llama.cpp, CPU build, `getLlama({ gpu: false, build: 'never' })`) batching
// the same GGUF over several sequences of one context, as llama.cpp's server
// does with slots. A child process driven over stdin/stdout, one JSON object
// a line:
//   in:  { "prompts": number[][], "tokens": number }   — one stream per prompt, all at once
//   out: { "streams": [{ "sentAt", "arrivals": number[] }] }  (ms, performance.now of this process)
//   out (first line): { "ready": true }
// Run by bench/serving.ts: tsx bench/peers/llama-batch.ts MODEL.gguf THREADS MAX_SEQUENCES CONTEXT_PER_SEQUENCE
import { createInterface } from 'node:readline';
import { getLlama, type LlamaContext, type Token } from 'node-llama-cpp';

const [modelPath, threadsArg, maxSequencesArg, perSequenceArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const perSequence = Number(perSequenceArg);
const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads });
const model = await llama.loadModel({ modelPath });
const contexts = new Map<number, LlamaContext>();

/** A context of `n` sequences (kept: contexts are made once per stream count). */
async function contextFor(n: number): Promise<LlamaContext> {
  let context = contexts.get(n);
  if (!context) {
    context = await model.createContext({ sequences: n, contextSize: n * perSequence, threads, batchSize: 512 });
    contexts.set(n, context);
  }
  return context;
}

async function runStreams(prompts: number[][], tokens: number): Promise<{ sentAt: number; arrivals: number[] }[]> {
  const context = await contextFor(prompts.length);
  return Promise.all(prompts.map(async (prompt) => {
    const sequence = context.getSequence();
    const sentAt = performance.now();
    const arrivals: number[] = [];
    try {
      // Greedy; EOS does not end the stream early (the random-weight model may emit it), as max_tokens would not.
      for await (const _token of sequence.evaluate(prompt as Token[], { temperature: 0 })) {
        arrivals.push(performance.now());
        if (arrivals.length >= tokens) break;
      }
    } finally {
      sequence.dispose();
    }
    return { sentAt, arrivals };
  }));
}

process.stdout.write(`${JSON.stringify({ ready: true, maxSequences: Number(maxSequencesArg) })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { prompts, tokens } = JSON.parse(line) as { prompts: number[][]; tokens: number };
  process.stdout.write(`${JSON.stringify({ streams: await runStreams(prompts, tokens) })}\n`);
}
for (const context of contexts.values()) await context.dispose();
await model.dispose();
await llama.dispose();
