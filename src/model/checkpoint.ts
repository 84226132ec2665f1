// A checkpoint in either format behind one interface: the config, and logical
// tensors (src/model/names.ts) read as WeightData with checked shapes.
import type { WeightData } from '../backend/backend.ts';
import type { ModelConfig } from './config.ts';
import { parseHfConfig } from './config-hf.ts';
import { configFromGguf } from './config-gguf.ts';
import { readGguf, type GgufMetadata } from './gguf.ts';
import {
  GGUF_GLOBAL, HF_GLOBAL, ggufLayerName, hfExpertName, hfLayerName,
  type GlobalTensor, type LayerTensor,
} from './names.ts';
import { readSafetensorsIndex, SAFETENSORS_FILE, SAFETENSORS_INDEX, WeightFileError, type StoredTensor } from './safetensors.ts';
import type { ModelSource } from './source.ts';
import { readText } from './source.ts';

export interface Checkpoint {
  readonly format: 'safetensors' | 'gguf';
  /** The weight file (or index) for messages. */
  readonly file: string;
  readonly config: ModelConfig;
  /** GGUF metadata (tokenizer.ggml.* lives here for GGUF models). */
  readonly ggufMetadata?: GgufMetadata;
  hasGlobal(tensor: GlobalTensor): boolean;
  hasLayer(layer: number, tensor: LayerTensor): boolean;
  readGlobal(tensor: GlobalTensor, shape: readonly number[]): Promise<WeightData>;
  readLayer(layer: number, tensor: LayerTensor, shape: readonly number[]): Promise<WeightData>;
}

export async function openCheckpoint(source: ModelSource): Promise<Checkpoint> {
  const hasHf = (await source.has(SAFETENSORS_FILE)) || (await source.has(SAFETENSORS_INDEX));
  if (hasHf) return openSafetensors(source);
  // Sources that cannot list (URLs, asset bindings) can still serve a GGUF named model.gguf.
  const files = source.list ? await source.list() : (await source.has('model.gguf')) ? ['model.gguf'] : [];
  const ggufs = files.filter((f) => f.endsWith('.gguf'));
  const file = ggufs.length === 1 ? ggufs[0] : ggufs.find((f) => f === 'model.gguf');
  if (file) return openGgufCheckpoint(source, file);
  if (ggufs.length > 1) {
    throw new WeightFileError(`${source.label}: several GGUF files (${ggufs.join(', ')}); name one of them as the model path`);
  }
  throw new WeightFileError(`${source.label}: no model found (expected config.json + ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX}, or a .gguf file)`);
}

async function readTensor(source: ModelSource, stored: StoredTensor, shape: readonly number[]): Promise<WeightData> {
  checkShape(stored, shape);
  return { name: stored.name, dtype: stored.dtype, shape, bytes: await source.read(stored.file, stored.offset, stored.byteLength) };
}

function checkShape(stored: StoredTensor, shape: readonly number[]): void {
  const same = stored.shape.length === shape.length && stored.shape.every((d, i) => d === shape[i]);
  if (!same) {
    throw new WeightFileError(`${stored.file}: tensor ${stored.name} has shape [${stored.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

async function openSafetensors(source: ModelSource): Promise<Checkpoint> {
  if (!(await source.has('config.json'))) throw new WeightFileError(`${source.label}: config.json not found next to the safetensors weights`);
  let json: unknown;
  try { json = JSON.parse(await readText(source, 'config.json')); } catch (error) {
    throw new WeightFileError(`${source.label}/config.json: not valid JSON (${(error as Error).message})`);
  }
  const config = parseHfConfig(json, `${source.label}/config.json`);
  const tensors = await readSafetensorsIndex(source);
  const file = (await source.has(SAFETENSORS_INDEX)) ? SAFETENSORS_INDEX : SAFETENSORS_FILE;
  const need = (name: string): StoredTensor => {
    const stored = tensors.get(name);
    if (!stored) throw new WeightFileError(`${source.label}/${file}: tensor ${name} is missing`);
    return stored;
  };
  return {
    format: 'safetensors',
    file: `${source.label}/${file}`,
    config,
    hasGlobal: (t) => tensors.has(HF_GLOBAL[t]),
    hasLayer: (layer, t) => (t === 'gateExps' || t === 'upExps' || t === 'downExps'
      ? tensors.has(hfExpertName(layer, 0, t))
      : t !== 'kB' && t !== 'vB' && tensors.has(hfLayerName(layer, t))),
    readGlobal: (t, shape) => readTensor(source, need(HF_GLOBAL[t]), shape),
    readLayer: async (layer, t, shape) => {
      if (t !== 'gateExps' && t !== 'upExps' && t !== 'downExps') return readTensor(source, need(hfLayerName(layer, t)), shape);
      // Routed experts are separate tensors in HF; stack them into [E, N, K].
      const [experts, ...inner] = shape;
      const parts: WeightData[] = [];
      for (let e = 0; e < experts; e++) parts.push(await readTensor(source, need(hfExpertName(layer, e, t)), inner));
      const dtypes = new Set(parts.map((p) => p.dtype));
      if (dtypes.size > 1) throw new WeightFileError(`${source.label}: experts of layer ${layer} ${t} mix dtypes ${[...dtypes].join(', ')}`);
      const bytes = new Uint8Array(parts.reduce((a, p) => a + p.bytes.byteLength, 0));
      let at = 0;
      for (const part of parts) { bytes.set(part.bytes, at); at += part.bytes.byteLength; }
      return { name: `model.layers.${layer}.mlp.experts.*.${t}`, dtype: parts[0].dtype, shape, bytes };
    },
  };
}

async function openGgufCheckpoint(source: ModelSource, file: string): Promise<Checkpoint> {
  const parsed = await readGguf(source, file);
  const label = `${source.label.endsWith(file) ? source.label : `${source.label}/${file}`}`;
  const embed = parsed.tensors.get(GGUF_GLOBAL.embed);
  const config = configFromGguf(parsed.metadata, label, embed?.shape[0], parsed.tensors.has(GGUF_GLOBAL.lmHead));
  const need = (name: string): StoredTensor => {
    const stored = parsed.tensors.get(name);
    if (!stored) throw new WeightFileError(`${label}: tensor ${name} is missing`);
    return stored;
  };
  return {
    format: 'gguf',
    file: label,
    config,
    ggufMetadata: parsed.metadata,
    hasGlobal: (t) => parsed.tensors.has(GGUF_GLOBAL[t]),
    hasLayer: (layer, t) => parsed.tensors.has(ggufLayerName(layer, t)),
    readGlobal: (t, shape) => readTensor(source, need(GGUF_GLOBAL[t]), shape),
    readLayer: (layer, t, shape) => readTensor(source, need(ggufLayerName(layer, t)), shape),
  };
}
