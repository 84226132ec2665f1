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
import { findGguf, hasSafetensors, noModel } from './model-files.ts';
import type { ModelSource } from './source.ts';
import { readText } from './source.ts';

export interface Checkpoint {
  readonly format: 'safetensors' | 'gguf';
  /** The weight file (or index) for messages. */
  readonly file: string;
  readonly config: ModelConfig;
  /** GGUF metadata (tokenizer.ggml.* lives here for GGUF models). */
  readonly ggufMetadata?: GgufMetadata;
  /** Every tensor the file(s) hold, as stored (a backend checks its limits against them before anything is uploaded). */
  readonly stored: readonly StoredTensor[];
  hasGlobal(tensor: GlobalTensor): boolean;
  hasLayer(layer: number, tensor: LayerTensor): boolean;
  readGlobal(tensor: GlobalTensor, shape: readonly number[]): Promise<WeightData>;
  readLayer(layer: number, tensor: LayerTensor, shape: readonly number[]): Promise<WeightData>;
  /** Where a tensor's bytes are (several parts for HF's per-expert tensors), shape-checked. */
  locateGlobal(tensor: GlobalTensor, shape: readonly number[]): LocatedTensor;
  locateLayer(layer: number, tensor: LayerTensor, shape: readonly number[]): LocatedTensor;
  readLocated(tensor: LocatedTensor): Promise<WeightData>;
  /** Reads a located tensor into `dst`, when the source can (no whole-tensor intermediate copy). */
  readInto?(tensor: LocatedTensor, dst: Uint8Array): Promise<void>;
}

export interface LocatedTensor {
  readonly name: string;
  readonly dtype: WeightData['dtype'];
  readonly shape: readonly number[];
  readonly byteLength: number;
  readonly parts: readonly StoredTensor[];
}

type CheckpointBase = Omit<Checkpoint, 'readGlobal' | 'readLayer' | 'readLocated' | 'readInto'>;

/** Reading on top of locating: one part is read as it is, several are stacked. */
function withReads(base: CheckpointBase, source: ModelSource): Checkpoint {
  const read = async (located: LocatedTensor): Promise<WeightData> => {
    const { name, dtype, shape, parts } = located;
    if (parts.length === 1) return { name, dtype, shape, bytes: await source.read(parts[0].file, parts[0].offset, parts[0].byteLength) };
    const bytes = new Uint8Array(located.byteLength);
    let at = 0;
    for (const part of parts) { bytes.set(await source.read(part.file, part.offset, part.byteLength), at); at += part.byteLength; }
    return { name, dtype, shape, bytes };
  };
  const readInto = source.readInto?.bind(source);
  return {
    ...base,
    readGlobal: (t, shape) => read(base.locateGlobal(t, shape)),
    readLayer: (layer, t, shape) => read(base.locateLayer(layer, t, shape)),
    readLocated: read,
    readInto: readInto && (async (located, dst) => {
      let at = 0;
      for (const part of located.parts) { await readInto(part.file, part.offset, dst.subarray(at, at + part.byteLength)); at += part.byteLength; }
    }),
  };
}

function single(stored: StoredTensor, shape: readonly number[]): LocatedTensor {
  checkShape(stored, shape);
  return { name: stored.name, dtype: stored.dtype, shape, byteLength: stored.byteLength, parts: [stored] };
}

export async function openCheckpoint(source: ModelSource): Promise<Checkpoint> {
  if (await hasSafetensors(source)) return openSafetensors(source);
  const file = await findGguf(source);
  if (file) return openGgufCheckpoint(source, file);
  throw noModel(source);
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
  return withReads({
    format: 'safetensors',
    file: `${source.label}/${file}`,
    config,
    stored: [...tensors.values()],
    hasGlobal: (t) => tensors.has(HF_GLOBAL[t]),
    hasLayer: (layer, t) => (t === 'gateExps' || t === 'upExps' || t === 'downExps'
      ? tensors.has(hfExpertName(layer, 0, t))
      : t !== 'kB' && t !== 'vB' && tensors.has(hfLayerName(layer, t))),
    locateGlobal: (t, shape) => single(need(HF_GLOBAL[t]), shape),
    locateLayer: (layer, t, shape) => {
      if (t !== 'gateExps' && t !== 'upExps' && t !== 'downExps') return single(need(hfLayerName(layer, t)), shape);
      // Routed experts are separate tensors in HF; they are stacked into [E, N, K].
      const [experts, ...inner] = shape;
      const parts = Array.from({ length: experts }, (_, e) => single(need(hfExpertName(layer, e, t)), inner).parts[0]);
      const dtypes = new Set(parts.map((p) => p.dtype));
      if (dtypes.size > 1) throw new WeightFileError(`${source.label}: experts of layer ${layer} ${t} mix dtypes ${[...dtypes].join(', ')}`);
      const name = `model.layers.${layer}.mlp.experts.*.${t}`;
      return { name, dtype: parts[0].dtype, shape, byteLength: parts.reduce((a, p) => a + p.byteLength, 0), parts };
    },
  }, source);
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
  return withReads({
    format: 'gguf',
    file: label,
    config,
    ggufMetadata: parsed.metadata,
    stored: [...parsed.tensors.values()],
    hasGlobal: (t) => parsed.tensors.has(GGUF_GLOBAL[t]),
    hasLayer: (layer, t) => parsed.tensors.has(ggufLayerName(layer, t)),
    locateGlobal: (t, shape) => single(need(GGUF_GLOBAL[t]), shape),
    locateLayer: (layer, t, shape) => single(need(ggufLayerName(layer, t)), shape),
  }, source);
}
