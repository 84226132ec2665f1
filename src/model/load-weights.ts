// Checkpoint → backend: every tensor is read, shape-checked, converted to a
// dtype the backend holds (norms and the router in f32; optional
// quantize-at-load), and uploaded once. kv_b_proj is split per head into the
// absorbed-attention matrices here. On any error everything uploaded so far is
// released: nothing is half-loaded.
import type {
  AbsorbedAttentionWeights, Backend, DType, ExpertWeights, Weight, WeightData,
} from '../backend/backend.ts';
import type { Checkpoint, LocatedTensor } from './checkpoint.ts';
import { isMoeLayer, type ModelConfig } from './config.ts';
import { assertFiniteWeights } from './check-tensors.ts';
import { fromF32, toF32 } from './dtype.ts';
import type { LayerTensor } from './names.ts';
import { WeightFileError } from './safetensors.ts';
import { DTYPES, rowsFit, weightType } from './weight-types.ts';

/** Quantize-at-load targets: every block type of the table (our quantizers, src/model/quant/). */
export type QuantizeMode = Exclude<DType, 'f32' | 'f16' | 'bf16'>;
export const QUANTIZE_MODES = DTYPES.filter((t) => weightType(t).block > 1) as QuantizeMode[];

/** f32: norms and router; matmul: quantized at load when asked; as-stored: already in its final dtype. */
type Role = 'f32' | 'matmul' | 'as-stored';

export interface DenseMlpWeights { readonly gate: Weight; readonly up: Weight; readonly down: Weight }

export type QueryWeights =
  | { readonly kind: 'direct'; readonly proj: Weight }
  | { readonly kind: 'lora'; readonly a: Weight; readonly aNorm: Weight; readonly b: Weight };

export type FfnWeights =
  | { readonly kind: 'dense'; readonly mlp: DenseMlpWeights }
  | {
    readonly kind: 'moe'; readonly router: Weight; readonly experts: ExpertWeights; readonly shared: DenseMlpWeights | null;
    /** noaux_tc (DeepSeek-V3): e_score_correction_bias [E], f32; null for the V2 routers. */
    readonly routerBias: Weight | null;
  };

export interface LayerWeights {
  readonly attnNorm: Weight;
  readonly query: QueryWeights;
  /** kv_a_proj_with_mqa: [kvLoraRank + rope, H] */
  readonly kvA: Weight;
  readonly kvANorm: Weight;
  readonly absorbed: AbsorbedAttentionWeights;
  readonly o: Weight;
  readonly ffnNorm: Weight;
  readonly ffn: FfnWeights;
}

export interface ModelWeights {
  readonly embed: Weight;
  readonly layers: readonly LayerWeights[];
  readonly norm: Weight;
  readonly lmHead: Weight;
  /** Every weight uploaded (for release and byte counts). */
  readonly all: readonly Weight[];
}

export interface LoadWeightsOptions {
  quantize?: QuantizeMode;
  /** Check every weight for NaN/Inf (see check-tensors.ts). */
  checkTensors?: boolean;
  onProgress?: (loaded: number, total: number, tensor: string) => void;
}

export async function loadWeights(checkpoint: Checkpoint, backend: Backend, options: LoadWeightsOptions = {}): Promise<ModelWeights> {
  const c = checkpoint.config;
  // The backend's limits are checked against every weight before the first upload.
  backend.checkWeights?.(heldWeights(checkpoint, backend, options.quantize), checkpoint.file);
  const uploaded: Weight[] = [];
  const total = 3 + c.numLayers;
  let step = 0;
  const targetOf = (role: Role): DType | undefined => (role === 'f32' ? 'f32' : role === 'matmul' ? options.quantize : undefined);
  const check = (name: string, dtype: DType, shape: readonly number[], bytes: Uint8Array): void => {
    if (options.checkTensors) assertFiniteWeights(checkpoint.file, name, dtype, shape, bytes);
  };
  const upload = (data: WeightData, layer: number, role: Role): Weight => {
    const converted = convert(data, backend, targetOf(role));
    check(converted.name, converted.dtype, converted.shape, converted.bytes);
    const weight = backend.uploadWeight(converted, { layer });
    uploaded.push(weight);
    return weight;
  };
  // A tensor kept as stored goes from the file into the backend's memory
  // where both allow it (through at most a small buffer), so loading holds no
  // second copy of it.
  const load = async (located: LocatedTensor, layer: number, role: Role): Promise<Weight> => {
    const readInto = checkpoint.readInto;
    if (readInto && backend.uploadWeightFrom && dtypeFor(located.dtype, located.shape, backend, targetOf(role)) === located.dtype) {
      const { name, dtype, shape } = located;
      const weight = await backend.uploadWeightFrom({ name, dtype, shape }, { layer }, async (dst) => {
        await readInto(located, dst);
        check(name, dtype, shape, dst);
      });
      uploaded.push(weight);
      return weight;
    }
    return upload(await checkpoint.readLocated(located), layer, role);
  };
  try {
    const H = c.hiddenSize;
    const embed = await load(checkpoint.locateGlobal('embed', [c.vocabSize, H]), -1, 'matmul');
    options.onProgress?.(++step, total, 'embed');
    const layers: LayerWeights[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const read = (t: LayerTensor, shape: number[], role: Role = 'matmul'): Promise<Weight> =>
        load(checkpoint.locateLayer(l, t, shape), l, role);
      const qHead = c.qkNopeHeadDim + c.qkRopeHeadDim;
      const attnNorm = await read('attnNorm', [H], 'f32');
      const query: QueryWeights = c.qLoraRank === null
        ? { kind: 'direct', proj: await read('qProj', [c.numHeads * qHead, H]) }
        : {
          kind: 'lora',
          a: await read('qA', [c.qLoraRank, H]),
          aNorm: await read('qANorm', [c.qLoraRank], 'f32'),
          b: await read('qB', [c.numHeads * qHead, c.qLoraRank]),
        };
      const kvA = await read('kvA', [c.kvLoraRank + c.qkRopeHeadDim, H]);
      const kvANorm = await read('kvANorm', [c.kvLoraRank], 'f32');
      const absorbed = await loadAbsorbed(checkpoint, l, c, (d, role) => upload(d, l, role), (d) => convert(d, backend, options.quantize));
      const o = await read('o', [H, c.numHeads * c.vHeadDim]);
      const ffnNorm = await read('ffnNorm', [H], 'f32');
      let ffn: FfnWeights;
      if (isMoeLayer(c, l)) {
        const E = c.nRoutedExperts;
        const I = c.moeIntermediateSize;
        const S = I * c.nSharedExperts;
        ffn = {
          kind: 'moe',
          router: await read('router', [E, H], 'f32'),
          routerBias: c.topkMethod === 'noaux_tc' ? await read('routerBias', [E], 'f32') : null,
          experts: {
            gate: await read('gateExps', [E, I, H]),
            up: await read('upExps', [E, I, H]),
            down: await read('downExps', [E, H, I]),
          },
          shared: c.nSharedExperts > 0
            ? { gate: await read('gateShexp', [S, H]), up: await read('upShexp', [S, H]), down: await read('downShexp', [H, S]) }
            : null,
        };
      } else {
        const I = c.intermediateSize;
        ffn = { kind: 'dense', mlp: { gate: await read('gate', [I, H]), up: await read('up', [I, H]), down: await read('down', [H, I]) } };
      }
      layers.push({ attnNorm, query, kvA, kvANorm, absorbed, o, ffnNorm, ffn });
      options.onProgress?.(++step, total, `layer ${l}`);
    }
    const norm = await load(checkpoint.locateGlobal('norm', [H]), -2, 'f32');
    options.onProgress?.(++step, total, 'norm');
    let lmHead = embed;
    if (!c.tieWordEmbeddings) {
      if (!checkpoint.hasGlobal('lmHead')) {
        throw new WeightFileError(`${checkpoint.file}: the output head (lm_head) is missing and tie_word_embeddings is false`);
      }
      lmHead = await load(checkpoint.locateGlobal('lmHead', [c.vocabSize, H]), -2, 'matmul');
    }
    options.onProgress?.(++step, total, 'lm_head');
    return { embed, layers, norm, lmHead, all: uploaded };
  } catch (error) {
    for (const w of uploaded) backend.release(w);
    throw error;
  }
}

/**
 * Every weight as the backend will hold it, without reading a byte: dtypes
 * after conversion, kv_b_proj as its two absorbed halves, HF's per-expert
 * tensors stacked, norms and routers in f32.
 */
function heldWeights(checkpoint: Checkpoint, backend: Backend, quantize: QuantizeMode | undefined): Omit<WeightData, 'bytes'>[] {
  const c = checkpoint.config;
  const held = new Map<string, Omit<WeightData, 'bytes'>>();
  for (const t of checkpoint.stored) {
    held.set(t.name, { name: t.name, shape: t.shape, dtype: t.shape.length === 1 ? 'f32' : dtypeFor(t.dtype, t.shape, backend, quantize) });
  }
  const [heads, nope, v, kvr, H] = [c.numHeads, c.qkNopeHeadDim, c.vHeadDim, c.kvLoraRank, c.hiddenSize];
  const replace = (located: LocatedTensor, weights: Omit<WeightData, 'bytes'>[]) => {
    for (const part of located.parts) held.delete(part.name);
    for (const w of weights) held.set(w.name, w);
  };
  for (let l = 0; l < c.numLayers; l++) {
    if (checkpoint.hasLayer(l, 'kvB')) {
      const kvB = checkpoint.locateLayer(l, 'kvB', [heads * (nope + v), kvr]);
      const dtype = dtypeFor(kvB.dtype, kvB.shape, backend, quantize);
      const base = kvB.name.replace(/\.weight$/, '');
      replace(kvB, [
        { name: `${base}[W_UKᵀ]`, dtype: dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? dtype : 'f32', shape: [heads, kvr, nope] },
        { name: `${base}[W_UV]`, dtype, shape: [heads, v, kvr] },
      ]);
    }
    if (!isMoeLayer(c, l)) continue;
    const [E, I] = [c.nRoutedExperts, c.moeIntermediateSize];
    const router = checkpoint.locateLayer(l, 'router', [E, H]);
    replace(router, [{ name: router.name, dtype: 'f32', shape: router.shape }]);
    for (const [t, shape] of [['gateExps', [E, I, H]], ['upExps', [E, I, H]], ['downExps', [E, H, I]]] as const) {
      const experts = checkpoint.locateLayer(l, t, shape);
      replace(experts, [{ name: experts.name, dtype: dtypeFor(experts.dtype, shape, backend, quantize), shape }]);
    }
  }
  return [...held.values()];
}

/**
 * W_UKᵀ [heads, kvr, nope] and W_UV [heads, v, kvr] from kv_b_proj
 * [heads·(nope+v), kvr] (rows per head: nope of W_UK, then v of W_UV), or from
 * GGUF's split attn_k_b / attn_v_b, which already have these shapes.
 * W_UV keeps kv_b's dtype (whole rows); W_UKᵀ is a transpose, exact for
 * f32/f16/bf16 and dequantized to f32 for quantized blocks (which cannot be
 * transposed without requantizing).
 */
async function loadAbsorbed(
  checkpoint: Checkpoint, layer: number, c: ModelConfig,
  upload: (data: WeightData, role: Role) => Weight,
  quantize: (data: WeightData) => WeightData,
): Promise<AbsorbedAttentionWeights> {
  const heads = c.numHeads;
  const nope = c.qkNopeHeadDim;
  const v = c.vHeadDim;
  const kvr = c.kvLoraRank;
  if (!checkpoint.hasLayer(layer, 'kvB') && checkpoint.hasLayer(layer, 'kB')) {
    const kb = await checkpoint.readLayer(layer, 'kB', [heads, kvr, nope]);
    const vb = await checkpoint.readLayer(layer, 'vB', [heads, v, kvr]);
    return { wkb: upload(kb, 'matmul'), wvb: upload(vb, 'matmul') };
  }
  // Quantize-at-load rounds kv_b as a whole (as a quantized GGUF stores it) before it is split.
  const kvB = quantize(await checkpoint.readLayer(layer, 'kvB', [heads * (nope + v), kvr]));
  const { wkb, wvb } = splitKvB(kvB, heads, nope, v, kvr);
  return { wkb: upload(wkb, 'as-stored'), wvb: upload(wvb, 'as-stored') };
}

/** kv_b_proj [heads·(nope+v), kvr] → W_UKᵀ [heads, kvr, nope] and W_UV [heads, v, kvr] (see loadAbsorbed). */
export function splitKvB(kvB: WeightData, heads: number, nope: number, v: number, kvr: number): { wkb: WeightData; wvb: WeightData } {
  const rowBytes = kvB.bytes.byteLength / (heads * (nope + v));
  const wvbBytes = new Uint8Array(heads * v * rowBytes);
  for (let h = 0; h < heads; h++) {
    const from = (h * (nope + v) + nope) * rowBytes;
    wvbBytes.set(kvB.bytes.subarray(from, from + v * rowBytes), h * v * rowBytes);
  }
  const lossless = kvB.dtype === 'f32' || kvB.dtype === 'f16' || kvB.dtype === 'bf16';
  const elementBytes = kvB.dtype === 'f32' ? 4 : 2;
  const transposedDtype: DType = lossless ? kvB.dtype : 'f32';
  const wkbBytes = new Uint8Array(heads * kvr * nope * (lossless ? elementBytes : 4));
  const out = new DataView(wkbBytes.buffer);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < nope; i++) {
      const row = h * (nope + v) + i;
      if (lossless) {
        for (let j = 0; j < kvr; j++) {
          const src = (row * kvr + j) * elementBytes;
          const dst = ((h * kvr + j) * nope + i) * elementBytes;
          for (let b = 0; b < elementBytes; b++) wkbBytes[dst + b] = kvB.bytes[src + b];
        }
      } else {
        const values = toF32(kvB.dtype, kvB.bytes, kvr, row * kvr);
        for (let j = 0; j < kvr; j++) out.setFloat32(((h * kvr + j) * nope + i) * 4, values[j], true);
      }
    }
  }
  const base = kvB.name.replace(/\.weight$/, '');
  return {
    wkb: { name: `${base}[W_UKᵀ]`, dtype: transposedDtype, shape: [heads, kvr, nope], bytes: wkbBytes },
    wvb: { name: `${base}[W_UV]`, dtype: kvB.dtype, shape: [heads, v, kvr], bytes: wvbBytes },
  };
}

/**
 * The dtype a weight is held in: `target` when given and its blocks fit the
 * rows, else llama.cpp's fallback for the target when that fits (Q4_K → Q5_0
 * for rows that are not whole 256-blocks), else as stored; f32 where the
 * backend cannot hold the result.
 */
function dtypeFor(stored: DType, shape: readonly number[], backend: Backend, target: DType | undefined): DType {
  const K = shape[shape.length - 1];
  let want: DType = stored;
  if (target === 'f32') want = 'f32';
  else if (target && stored !== target && shape.length >= 2) {
    const fallback = weightType(target).fallback;
    if (rowsFit(target, K)) want = target;
    else if (fallback && rowsFit(fallback, K)) want = fallback;
  }
  if (!backend.weightDTypes.includes(want)) want = 'f32';
  return want;
}

function convert(data: WeightData, backend: Backend, target: DType | undefined): WeightData {
  const want = dtypeFor(data.dtype, data.shape, backend, target);
  if (want === data.dtype) return data;
  const count = data.shape.reduce((a, b) => a * b, 1);
  return { ...data, dtype: want, bytes: fromF32(want, toF32(data.dtype, data.bytes, count)) };
}
