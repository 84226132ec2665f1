// A plain-JS float64 Backend for tests: every op written the simplest way from
// design.md, sharing no code with the Wasm kernels or the shaders. Running the
// real forward pass on it checks the forward pass and the loaders
// independently of the kernels (and the kernels independently of them).
import {
  cacheSlot, checkCacheRows, viewOf, type AbsorbedAttentionWeights, type Activation, type Backend, type DType, type ExpertWeights,
  type GatingParams, type LatentCache, type MlaShape, type Operand, type RoutePlan, type Weight, type WeightData,
} from '../../src/backend/backend.ts';
import { toF32 } from '../../src/model/dtype.ts';
import { DTYPES } from '../../src/model/weight-types.ts';
import { routeRef, siluRef } from '../ops/reference.ts';

class JsActivation implements Activation {
  readonly data: Float64Array;
  constructor(readonly rows: number, readonly cols: number) { this.data = new Float64Array(rows * cols); }
}
interface JsWeight extends Weight { readonly values: Float32Array }
/** Per layer, [blocks · blockSize, width] rows. */
interface JsCache extends LatentCache { blocks: number; byteLength: number; data: Float64Array[] }
interface JsPlan extends RoutePlan { experts: Int32Array; weights: Float32Array }

function get(op: Operand, r: number, i: number): number {
  const v = viewOf(op);
  return (v.act as JsActivation).data[r * v.act.cols + v.offset + i];
}
function set(op: Operand, r: number, i: number, value: number): void {
  const v = viewOf(op);
  (v.act as JsActivation).data[r * v.act.cols + v.offset + i] = value;
}

export function createJsBackend(): Backend {
  return {
    name: 'cpu',
    weightDTypes: DTYPES,
    uploadWeight(data: WeightData): Weight {
      const count = data.shape.reduce((a, b) => a * b, 1);
      return { name: data.name, dtype: data.dtype, shape: data.shape, byteLength: data.bytes.byteLength, values: toF32(data.dtype, data.bytes, count) } as JsWeight;
    },
    createActivation: (rows, cols) => new JsActivation(rows, cols),
    createLatentCache(layers, blockSize, width): LatentCache {
      const cache: JsCache = { layers, blockSize, width, blocks: 0, maxBlocks: Infinity, byteLength: 0, data: Array.from({ length: layers }, () => new Float64Array(0)) };
      return cache;
    },
    growLatentCache(latent, blocks) {
      const cache = latent as JsCache;
      if (blocks <= cache.blocks) return;
      cache.data = cache.data.map((old) => { const grown = new Float64Array(blocks * cache.blockSize * cache.width); grown.set(old); return grown; });
      cache.blocks = blocks;
      cache.byteLength = cache.layers * blocks * cache.blockSize * cache.width * 4;
    },
    release() {},
    write(dst, data) {
      const cols = viewOf(dst).cols;
      for (let i = 0; i < data.length; i++) set(dst, Math.floor(i / cols), i % cols, data[i]);
    },
    async read(src, row0 = 0, rows) {
      const v = viewOf(src);
      const count = rows ?? v.act.rows - row0;
      const out = new Float32Array(count * v.cols);
      for (let r = 0; r < count; r++) for (let i = 0; i < v.cols; i++) out[r * v.cols + i] = get(src, row0 + r, i);
      return out;
    },
    flush() {},
    gatherRows(src, rows, dst) {
      rows.forEach((r, d) => { for (let i = 0; i < viewOf(src).cols; i++) set(dst, d, i, get(src, r, i)); });
    },
    embed(ids, table, out) {
      const w = table as JsWeight;
      const H = w.shape[1];
      ids.forEach((id, t) => { for (let i = 0; i < H; i++) set(out, t, i, w.values[id * H + i]); });
    },
    matmul(x, weight, out, rows) {
      const w = weight as JsWeight;
      const [N, K] = w.shape.slice(-2);
      const T = rows ?? viewOf(x).act.rows;
      for (let t = 0; t < T; t++) {
        const xs = Array.from({ length: K }, (_, k) => get(x, t, k));
        for (let n = 0; n < N; n++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += xs[k] * w.values[n * K + k];
          set(out, t, n, acc);
        }
      }
    },
    rmsnorm(x, weight, eps, out) {
      const w = weight as JsWeight;
      const v = viewOf(x);
      for (let r = 0; r < v.act.rows; r++) {
        let ss = 0;
        for (let i = 0; i < v.cols; i++) ss += get(x, r, i) ** 2;
        const inv = 1 / Math.sqrt(ss / v.cols + eps);
        for (let i = 0; i < v.cols; i++) set(out, r, i, get(x, r, i) * inv * w.values[i]);
      }
    },
    rope(x, cosSin, heads, headStride, dim) {
      const rows = cosSin.length / dim;
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < heads; h++) {
          for (let j = 0; j < dim / 2; j++) {
            const c = cosSin[(r * dim / 2 + j) * 2];
            const s = cosSin[(r * dim / 2 + j) * 2 + 1];
            const i = h * headStride + 2 * j;
            const a = get(x, r, i);
            const b = get(x, r, i + 1);
            set(x, r, i, a * c - b * s);
            set(x, r, i + 1, b * c + a * s);
          }
        }
      }
    },
    add(x, y) {
      const v = viewOf(x);
      for (let r = 0; r < v.act.rows; r++) for (let i = 0; i < v.cols; i++) set(x, r, i, get(x, r, i) + get(y, r, i));
    },
    swiglu(gate, up, out) {
      const v = viewOf(gate);
      for (let r = 0; r < v.act.rows; r++) for (let i = 0; i < v.cols; i++) set(out, r, i, siluRef(get(gate, r, i)) * get(up, r, i));
    },
    cacheWrite(cache, layer, rows, c, kpe) {
      const data = (cache as JsCache).data[layer];
      const kvr = viewOf(c).cols;
      checkCacheRows(cache, rows, viewOf(c).act.rows);
      for (let r = 0; r < viewOf(c).act.rows; r++) {
        const slot = cacheSlot(rows, r, cache.blockSize);
        for (let i = 0; i < kvr; i++) data[slot * cache.width + i] = get(c, r, i);
        for (let i = 0; i < viewOf(kpe).cols; i++) data[slot * cache.width + kvr + i] = get(kpe, r, i);
      }
    },
    mlaAttention(q, cache, layer, rows, weights: AbsorbedAttentionWeights, shape: MlaShape, out) {
      const data = (cache as JsCache).data[layer];
      checkCacheRows(cache, rows, viewOf(q).act.rows);
      const bs = cache.blockSize;
      const { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale } = shape;
      const wkb = (weights.wkb as JsWeight).values;
      const wvb = (weights.wvb as JsWeight).values;
      const qHead = nope + rope;
      for (let t = 0; t < viewOf(q).act.rows; t++) {
        for (let h = 0; h < heads; h++) {
          const qlat = new Float64Array(kvr);
          for (let j = 0; j < kvr; j++) for (let i = 0; i < nope; i++) qlat[j] += wkb[(h * kvr + j) * nope + i] * get(q, t, h * qHead + i);
          const n = rows.positions[t] + 1;
          // Position p of row t's sequence, through its block table.
          const row = (p: number) => (rows.blocks[rows.tableStart[t] + Math.floor(p / bs)] * bs + (p % bs)) * cache.width;
          const scores = new Float64Array(n);
          for (let p = 0; p < n; p++) {
            let s = 0;
            for (let j = 0; j < kvr; j++) s += qlat[j] * data[row(p) + j];
            for (let i = 0; i < rope; i++) s += get(q, t, h * qHead + nope + i) * data[row(p) + kvr + i];
            scores[p] = s * softmaxScale;
          }
          const max = Math.max(...scores);
          let sum = 0;
          for (let p = 0; p < n; p++) { scores[p] = Math.exp(scores[p] - max); sum += scores[p]; }
          const olat = new Float64Array(kvr);
          for (let p = 0; p < n; p++) for (let j = 0; j < kvr; j++) olat[j] += (scores[p] / sum) * data[row(p) + j];
          for (let i = 0; i < v; i++) {
            let acc = 0;
            for (let j = 0; j < kvr; j++) acc += wvb[(h * v + i) * kvr + j] * olat[j];
            set(out, t, h * v + i, acc);
          }
        }
      }
    },
    route(logits, p: GatingParams): RoutePlan {
      const T = viewOf(logits).act.rows;
      const experts = new Int32Array(T * p.topK);
      const weights = new Float32Array(T * p.topK);
      for (let t = 0; t < T; t++) {
        const row = Array.from({ length: p.experts }, (_, e) => get(logits, t, e));
        const r = routeRef(row, p.experts, p.topK, {
          scoring: p.scoring, method: p.method, groups: p.groups, topKGroups: p.topKGroups, norm: p.normTopKProb,
          scale: p.routedScalingFactor, bias: p.bias && (p.bias as JsWeight).values,
        });
        experts.set(r.experts, t * p.topK);
        weights.set(r.weights, t * p.topK);
      }
      return { tokens: T, topK: p.topK, experts, weights } as JsPlan;
    },
    async readPlan(plan) {
      const p = plan as JsPlan;
      return { experts: p.experts, weights: p.weights };
    },
    moeExperts(x, plan, experts: ExpertWeights, out) {
      const p = plan as JsPlan;
      const [, I, H] = experts.gate.shape;
      const gate = (experts.gate as JsWeight).values;
      const up = (experts.up as JsWeight).values;
      const down = (experts.down as JsWeight).values;
      for (let t = 0; t < p.tokens; t++) {
        for (let k = 0; k < p.topK; k++) {
          const e = p.experts[t * p.topK + k];
          const hidden = new Float64Array(I);
          for (let i = 0; i < I; i++) {
            let g = 0;
            let u = 0;
            for (let j = 0; j < H; j++) {
              g += gate[(e * I + i) * H + j] * get(x, t, j);
              u += up[(e * I + i) * H + j] * get(x, t, j);
            }
            hidden[i] = siluRef(g) * u;
          }
          for (let j = 0; j < H; j++) {
            let acc = 0;
            for (let i = 0; i < I; i++) acc += down[(e * H + j) * I + i] * hidden[i];
            set(out, t, j, get(out, t, j) + p.weights[t * p.topK + k] * acc);
          }
        }
      }
    },
    dispose() {},
  };
}
