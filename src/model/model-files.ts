// Which files a model consists of, in one place for everyone who needs to know:
// the checkpoint and tokenizer loaders (which GGUF), a download that must
// fetch everything before loading (src/browser/cached-source.ts), and a server
// that hands the model to a page (src/server/model-files-route.ts).
import { SAFETENSORS_FILE, SAFETENSORS_INDEX, WeightFileError } from './safetensors.ts';
import { readText, type ModelSource } from './source.ts';

/** The tokenizer files read next to the weights when present (a GGUF carries its own otherwise). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

export async function hasSafetensors(source: ModelSource): Promise<boolean> {
  return (await source.has(SAFETENSORS_FILE)) || (await source.has(SAFETENSORS_INDEX));
}

/**
 * The GGUF file of a model: the only .gguf a listing shows, or model.gguf.
 * Sources that cannot list (URLs, asset and R2 bindings) find model.gguf, or
 * the file itself when they were opened on a .gguf URL (they list that one file).
 */
export async function findGguf(source: ModelSource): Promise<string | undefined> {
  const files = source.list ? await source.list() : (await source.has('model.gguf')) ? ['model.gguf'] : [];
  const ggufs = files.filter((f) => f.endsWith('.gguf'));
  const file = ggufs.length === 1 ? ggufs[0] : ggufs.find((f) => f === 'model.gguf');
  if (!file && ggufs.length > 1) {
    throw new WeightFileError(`${source.label}: several GGUF files (${ggufs.join(', ')}); name one of them as the model path`);
  }
  return file;
}

/**
 * Every file loading the model reads: config.json, the safetensors file or
 * index and its shards, or the GGUF; and the tokenizer files that exist.
 */
export async function modelFiles(source: ModelSource): Promise<string[]> {
  const files: string[] = [];
  if (await hasSafetensors(source)) {
    files.push('config.json');
    if (await source.has(SAFETENSORS_INDEX)) {
      let index: { weight_map?: Record<string, string> };
      try { index = JSON.parse(await readText(source, SAFETENSORS_INDEX)); } catch (error) {
        throw new WeightFileError(`${source.label}/${SAFETENSORS_INDEX}: not valid JSON (${(error as Error).message})`);
      }
      if (!index.weight_map || typeof index.weight_map !== 'object') throw new WeightFileError(`${source.label}/${SAFETENSORS_INDEX}: missing "weight_map"`);
      files.push(SAFETENSORS_INDEX, ...new Set(Object.values(index.weight_map)));
    } else {
      files.push(SAFETENSORS_FILE);
    }
  } else {
    const gguf = await findGguf(source);
    if (!gguf) throw noModel(source);
    files.push(gguf);
  }
  for (const file of TOKENIZER_FILES) if (await source.has(file)) files.push(file);
  return files;
}

export function noModel(source: ModelSource): WeightFileError {
  return new WeightFileError(`${source.label}: no model found (expected config.json + ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX}, or a .gguf file)`);
}
