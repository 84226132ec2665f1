// `edgeseek tokenize --tokenizer PATH (--text S | --file F) [--out FILE] [--bos]`
// → a JSON array of ids on stdout, or little-endian u32 ids to FILE and
// {"tokens": N, "bytes": B, "ms": T} on stdout (T: encoding time, load excluded).
// PATH is a tokenizer.json, a model directory or a .gguf. Special tokens in the
// text are parsed; no BOS unless --bos.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsSource } from '../model/source-fs.ts';
import { loadTokenizer, tokenizerFromJson } from '../tokenizer/index.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { Args, CliError } from './args.ts';

async function openTokenizer(path: string): Promise<Tokenizer> {
  const info = await stat(path).catch(() => { throw new CliError(`--tokenizer: ${path} does not exist`); });
  if (info.isFile() && path.endsWith('.json')) {
    const configPath = join(dirname(path), 'tokenizer_config.json');
    const config = basename(path) !== 'tokenizer_config.json' ? await readFile(configPath, 'utf8').catch(() => undefined) : undefined;
    return tokenizerFromJson(await readFile(path, 'utf8'), config, { label: path });
  }
  return loadTokenizer(await fsSource(path));
}

export const options = ['tokenizer', 'text', 'file', 'out', 'bos'];

export async function run(argv: string[]): Promise<void> {
  const args = new Args(argv, options);
  const path = args.required('tokenizer');
  const text = args.string('text');
  const file = args.string('file');
  if ((text === undefined) === (file === undefined)) throw new CliError('give exactly one of --text or --file');
  const out = args.string('out');
  const bytes = text !== undefined ? new TextEncoder().encode(text) : await readFile(file!).catch(() => { throw new CliError(`--file: cannot read ${file}`); });
  const tokenizer = await openTokenizer(path);
  try {
    const start = performance.now();
    const ids = text !== undefined
      ? tokenizer.encode(text, { addSpecialTokens: args.flag('bos') })
      : tokenizer.encodeBytes(bytes, { addSpecialTokens: args.flag('bos') });
    const ms = performance.now() - start;
    if (out) {
      const packed = Uint32Array.from(ids);
      const little = new DataView(packed.buffer);
      for (let i = 0; i < ids.length; i++) little.setUint32(i * 4, ids[i], true);
      await writeFile(out, new Uint8Array(packed.buffer));
      process.stdout.write(`${JSON.stringify({ tokens: ids.length, bytes: bytes.length, ms: Math.round(ms * 1000) / 1000 })}\n`);
      return;
    }
    process.stdout.write(`${JSON.stringify(ids)}\n`);
  } finally {
    tokenizer.dispose();
  }
}
