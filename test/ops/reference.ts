// Plain-JS float64 references for every Backend op (the "CPU reference" of
// ggml's test-backend-ops): written from the math in design.md, sharing no
// code with the kernels.

export type Matrix = Float64Array; // row-major

export function matmulRef(x: ArrayLike<number>, T: number, K: number, w: ArrayLike<number>, N: number): Matrix {
  const out = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[t * K + k] * w[n * K + k];
      out[t * N + n] = acc;
    }
  }
  return out;
}

export function rmsnormRef(x: ArrayLike<number>, rows: number, cols: number, w: ArrayLike<number>, eps: number): Matrix {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += x[r * cols + i] ** 2;
    const inv = 1 / Math.sqrt(ss / cols + eps);
    for (let i = 0; i < cols; i++) out[r * cols + i] = x[r * cols + i] * inv * w[i];
  }
  return out;
}

/**
 * HF's apply_rotary_pos_emb for one vector of `dim` rotary values: view as
 * (dim/2, 2), transpose (de-interleave), then x·cos + rotate_half(x)·sin.
 * Returns the de-interleaved result (HF's layout).
 */
export function ropeHf(x: ArrayLike<number>, position: number, invFreq: ArrayLike<number>, factor = 1): Float64Array {
  const dim = invFreq.length * 2;
  const half = dim / 2;
  const d = new Float64Array(dim);
  for (let j = 0; j < half; j++) { d[j] = x[2 * j]; d[j + half] = x[2 * j + 1]; }
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    const j = i % half;
    const angle = position * invFreq[j];
    const rotated = i < half ? -d[i + half] : d[i - half];
    out[i] = d[i] * Math.cos(angle) * factor + rotated * Math.sin(angle) * factor;
  }
  return out;
}

/** The same rotation kept in the interleaved layout (what the backends store). */
export function ropePairsRef(x: ArrayLike<number>, position: number, invFreq: ArrayLike<number>, factor = 1): Float64Array {
  const out = new Float64Array(invFreq.length * 2);
  for (let j = 0; j < invFreq.length; j++) {
    const c = Math.cos(position * invFreq[j]) * factor;
    const s = Math.sin(position * invFreq[j]) * factor;
    out[2 * j] = x[2 * j] * c - x[2 * j + 1] * s;
    out[2 * j + 1] = x[2 * j + 1] * c + x[2 * j] * s;
  }
  return out;
}

export function siluRef(v: number): number {
  return v / (1 + Math.exp(-v));
}

/**
 * Naive (decompressed) MLA for query rows at positions pos0 + t over latent
 * rows c_j, k_pe_j: k_nope = W_UK c, v = W_UV c per head, softmax over j ≤ pos.
 * kvB: [heads·(nope+v), kvr] as in kv_b_proj. Returns [T, heads·v].
 */
export function mlaNaiveRef(
  q: ArrayLike<number>, T: number, pos0: number,
  latent: ArrayLike<number>, kpe: ArrayLike<number>,
  kvB: ArrayLike<number>,
  shape: { heads: number; nope: number; rope: number; v: number; kvr: number; scale: number },
): Matrix {
  const { heads, nope, rope, v, kvr, scale } = shape;
  const qHead = nope + rope;
  const L = pos0 + T;
  const kNope = new Float64Array(L * heads * nope);
  const values = new Float64Array(L * heads * v);
  for (let j = 0; j < L; j++) {
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < nope + v; r++) {
        let acc = 0;
        for (let i = 0; i < kvr; i++) acc += kvB[(h * (nope + v) + r) * kvr + i] * latent[j * kvr + i];
        if (r < nope) kNope[(j * heads + h) * nope + r] = acc;
        else values[(j * heads + h) * v + r - nope] = acc;
      }
    }
  }
  const out = new Float64Array(T * heads * v);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      const scores = new Float64Array(pos0 + t + 1);
      for (let j = 0; j <= pos0 + t; j++) {
        let s = 0;
        for (let i = 0; i < nope; i++) s += q[t * heads * qHead + h * qHead + i] * kNope[(j * heads + h) * nope + i];
        for (let i = 0; i < rope; i++) s += q[t * heads * qHead + h * qHead + nope + i] * kpe[j * rope + i];
        scores[j] = s * scale;
      }
      const max = Math.max(...scores);
      let sum = 0;
      for (let j = 0; j < scores.length; j++) { scores[j] = Math.exp(scores[j] - max); sum += scores[j]; }
      for (let j = 0; j < scores.length; j++) {
        for (let i = 0; i < v; i++) out[(t * heads + h) * v + i] += (scores[j] / sum) * values[(j * heads + h) * v + i];
      }
    }
  }
  return out;
}

/**
 * The absorbed attention core for one query row: scores of q_lat (per head,
 * kvr) and q_pe (per head, rope) against rows [c (kvr) | k_pe (rope) | …] of
 * `cache` (`width` apart, all of them attended), softmax, Σ p·c.
 * Returns o_lat [heads · kvr].
 */
export function absorbedCoreRef(
  qlat: ArrayLike<number>, qpe: ArrayLike<number>, cache: ArrayLike<number>, width: number,
  shape: { heads: number; kvr: number; rope: number; scale: number },
): Float64Array {
  const { heads, kvr, rope, scale } = shape;
  const n = cache.length / width;
  const out = new Float64Array(heads * kvr);
  for (let h = 0; h < heads; h++) {
    const s = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = 0; i < kvr; i++) dot += qlat[h * kvr + i] * cache[j * width + i];
      for (let i = 0; i < rope; i++) dot += qpe[h * rope + i] * cache[j * width + kvr + i];
      s[j] = dot * scale;
    }
    const max = Math.max(...s);
    let sum = 0;
    for (let j = 0; j < n; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < kvr; i++) out[h * kvr + i] += (s[j] / sum) * cache[j * width + i];
    }
  }
  return out;
}

export interface RouteRef { experts: number[]; weights: number[] }

/** The routing rule of one MoE layer (GatingParams in src/backend/backend.ts, bias as plain numbers). */
export interface RouteRule {
  scoring: 'softmax' | 'sigmoid';
  method: 'greedy' | 'group_limited_greedy' | 'noaux_tc';
  groups: number;
  topKGroups: number;
  norm: boolean;
  scale: number;
  /** noaux_tc: e_score_correction_bias [E]. */
  bias?: ArrayLike<number>;
}

/**
 * MoEGate.forward for one token. DeepSeek-V2: softmax scores; greedy top-k, or
 * group_limited_greedy (group score = max, other groups zeroed); weights
 * normalised (k > 1 and norm) or else scaled. DeepSeek-V3 noaux_tc: sigmoid
 * scores s, choice s + bias; with groups > 1 a group scores the sum of its two
 * best choices and the other groups are excluded; weights are the unbiased s,
 * normalised (k > 1 and norm) and then always scaled.
 */
export function routeRef(logits: ArrayLike<number>, E: number, k: number, p: RouteRule): RouteRef {
  const row = Array.from({ length: E }, (_, i) => logits[i]);
  let scores: number[];
  if (p.scoring === 'sigmoid') {
    scores = row.map((x) => 1 / (1 + Math.exp(-x)));
  } else {
    const max = Math.max(...row);
    const exps = row.map((x) => Math.exp(x - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    scores = exps.map((e) => e / sum);
  }
  let choice = p.method === 'noaux_tc' ? scores.map((s, i) => s + p.bias![i]) : scores.slice();
  const size = E / p.groups;
  const groupOf = (i: number) => Math.floor(i / size);
  if (p.method === 'group_limited_greedy') {
    const groupScores = Array.from({ length: p.groups }, (_, g) => Math.max(...choice.slice(g * size, (g + 1) * size)));
    const keep = topIndices(groupScores, p.topKGroups);
    scores = scores.map((s, i) => (keep.includes(groupOf(i)) ? s : 0));
    choice = scores.slice();
  } else if (p.method === 'noaux_tc' && p.groups > 1) {
    const groupScores = Array.from({ length: p.groups }, (_, g) => {
      const [first, second] = choice.slice(g * size, (g + 1) * size).sort((a, b) => b - a);
      return first + second;
    });
    const keep = topIndices(groupScores, p.topKGroups);
    choice = choice.map((c, i) => (keep.includes(groupOf(i)) ? c : -Infinity));
  }
  const experts = topIndices(choice, k);
  const normalize = k > 1 && p.norm;
  const total = experts.reduce((a, e) => a + scores[e], 0) + 1e-20;
  const weights = experts.map((e) => {
    let w = scores[e];
    if (normalize) w /= total;
    if (p.method === 'noaux_tc' || !normalize) w *= p.scale;
    return w;
  });
  return { experts, weights };
}

/** Indices of the k largest values, descending; ties to the lower index. */
export function topIndices(values: number[], k: number): number[] {
  return values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map(([, i]) => i);
}

/** A deterministic PRNG (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [-scale, scale), never all zero. */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

export function relError(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) { num += (out[i] - ref[i]) ** 2; den += ref[i] ** 2; }
  return Math.sqrt(num / den);
}

function roundTiesEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One 32-value block as the int16 activation mode quantizes it
 * (assembly/kernels/act_quant.ts), in the kernel's f32 arithmetic: s =
 * amax/16383 and q = round(x·(16383/amax)), ties to even; blocks below 2^-100
 * are scaled up by 2^100 first and their scale down.
 */
export function quantizeBlockInt16Ref(x: ArrayLike<number>): { s: number; q: number[] } {
  const f = Math.fround;
  let amax = 0;
  for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(f(x[i])));
  const up = amax > 0 && amax < 2 ** -100 ? 2 ** 100 : 1;
  const scaled = f(amax * up);
  const inv = scaled > 0 ? f(16383 / scaled) : 0;
  const q = Array.from({ length: 32 }, (_, i) => roundTiesEven(f(f(f(x[i]) * up) * inv)));
  return { s: f(f(scaled / 16383) / up), q };
}

/** x [T, K] with each 32-block replaced by the values q·s the int16 kernels multiply. */
export function quantizeActInt16Ref(x: ArrayLike<number>, T: number, K: number): Float64Array {
  const out = new Float64Array(T * K);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < K / 32; b++) {
      const at = t * K + b * 32;
      const { s, q } = quantizeBlockInt16Ref(Array.from({ length: 32 }, (_, i) => x[at + i]));
      for (let i = 0; i < 32; i++) out[at + i] = q[i] * s;
    }
  }
  return out;
}
