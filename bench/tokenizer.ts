// Tokenizer throughput on the test corpus (test/fixtures/corpus), per
// category, in one run: edgeseek (Wasm BPE, DeepSeek-V3 tokenizer.json)
// against @huggingface/tokenizers on the same tokenizer.json and tiktoken
// cl100k_base (Wasm) as a speed anchor. Each text is encoded whole; MB/s is
// UTF-8 megabytes (10^6) per second over repeated passes after a warm-up.
// "edgeseek cold" is one pass right after emptying edgeseek's word cache.
//
//   npx tsx bench/tokenizer.ts [--min-ms 600]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { get_encoding } from 'tiktoken';
import type { BpeTokenizer } from '../src/tokenizer/bpe-tokenizer.ts';
import { tokenizerFromJson } from '../src/tokenizer/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const minMsFlag = process.argv.indexOf('--min-ms');
const minMs = minMsFlag > 0 ? Number(process.argv[minMsFlag + 1]) : 600;

const v3Dir = join(root, 'node_modules', '@lenml', 'tokenizer-deepseek_v3', 'models');
const json = readFileSync(join(v3Dir, 'tokenizer.json'), 'utf8');
const config = readFileSync(join(v3Dir, 'tokenizer_config.json'), 'utf8');
const corpusDir = join(root, 'test', 'fixtures', 'corpus');
const categories: [string, string][] = readdirSync(corpusDir).filter((f) => f.endsWith('.txt')).sort()
  .map((f) => [f.slice(0, -4), readFileSync(join(corpusDir, f), 'utf8')]);
categories.push(['all (mixed)', categories.map(([, text]) => text).join('\n')]);

const edgeseek = await tokenizerFromJson(json, config);
const hf = new HfTokenizer(JSON.parse(json), JSON.parse(config));
const tiktoken = get_encoding('cl100k_base');
const contenders: [string, (text: string) => number][] = [
  ['edgeseek', (text) => edgeseek.encode(text).length],
  ['@huggingface/tokenizers', (text) => hf.encode(text, { add_special_tokens: false }).ids.length],
  ['tiktoken cl100k_base', (text) => tiktoken.encode_ordinary(text).length],
];

function mbPerSecond(encode: (text: string) => number, text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  encode(text);
  let passes = 0;
  const start = performance.now();
  let elapsed = 0;
  while (passes < 2 || elapsed < minMs) {
    encode(text);
    passes++;
    elapsed = performance.now() - start;
  }
  return (bytes * passes) / 1e6 / (elapsed / 1000);
}

function coldMbPerSecond(text: string): number {
  (edgeseek as BpeTokenizer).encoder.clearCache();
  const start = performance.now();
  edgeseek.encode(text);
  return Buffer.byteLength(text, 'utf8') / 1e6 / ((performance.now() - start) / 1000);
}

const rows: string[] = [];
rows.push(`| category | KB | ${contenders.map(([name]) => `${name} MB/s`).join(' | ')} | edgeseek cold MB/s | edgeseek ÷ HF | edgeseek ÷ tiktoken | cold ÷ tiktoken |`);
rows.push(`|---|---:|${contenders.map(() => '---:').join('|')}|---:|---:|---:|---:|`);
for (const [category, text] of categories) {
  const speeds = contenders.map(([, encode]) => mbPerSecond(encode, text));
  const cold = coldMbPerSecond(text);
  const kb = Math.round(Buffer.byteLength(text, 'utf8') / 1024);
  rows.push(`| ${category} | ${kb} | ${speeds.map((s) => s.toFixed(2)).join(' | ')} | ${cold.toFixed(2)} | ${(speeds[0] / speeds[1]).toFixed(1)}× | ${(speeds[0] / speeds[2]).toFixed(2)}× | ${(cold / speeds[2]).toFixed(2)}× |`);
  console.error(rows[rows.length - 1]);
}
console.log(rows.join('\n'));
edgeseek.dispose();
tiktoken.free();
