// The benchmark prompt: deterministic ids (an LCG over the vocabulary), so
// runs compare — and so do engines and runtimes (bench/llama-cpp.ts,
// bench/browser.ts). No imports: the browser page bundles it too.

export function benchPromptIds(count: number, vocab: number): number[] {
  const ids: number[] = [];
  let state = 12345;
  for (let i = 0; i < count; i++) { state = (state * 1103515245 + 12345) % 2 ** 31; ids.push(state % vocab); }
  return ids;
}
