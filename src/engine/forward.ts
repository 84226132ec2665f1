// The DeepSeek-V2 forward pass (design.md "The model"), written once against
// the Backend ops: one step over T rows, each a token of some sequence at its
// own position on top of that sequence's latent KV cache — decode rows of
// many sequences and prefill chunks alike (design.md "Serving many users");
// a single sequence is the batch of one. Reads top to bottom like
// modeling_deepseek.py:
// embed → per layer [RMSNorm → MLA → residual → RMSNorm → MLP | MoE → residual]
// → final RMSNorm → lm_head (for the rows that need logits).
import {
  columns, type Activation, type Backend, type CacheRows, type GatingParams, type LatentCache, type MlaShape, type Operand,
} from '../backend/backend.ts';
import { isMoeLayer, type ModelConfig } from '../model/config.ts';
import type { DenseMlpWeights, ModelWeights } from '../model/load-weights.ts';
import { ropeCosSin, ropeFrequencies, softmaxScale, type RopeFrequencies } from '../model/rope.ts';

/** One forward step: T rows, row t the token ids[t] at its position in its sequence's blocks. */
export interface StepRows extends CacheRows {
  /** [T] each row's token. */
  readonly ids: Int32Array;
  /** Rows whose logits the step returns, in this order (none: only the cache is left behind). */
  readonly logitRows: Int32Array;
}

/** Scratch activations for a step of T rows, allocated once per T and reused. */
interface Scratch {
  readonly T: number;
  readonly x: Activation; //        [T, H] residual stream
  readonly xn: Activation; //       [T, H] normalized
  readonly qa: Activation | null; // [T, q_lora_rank]
  readonly q: Activation; //        [T, heads·(nope+rope)]
  readonly kva: Activation; //      [T, kv_lora + rope] = c | k_pe
  readonly attn: Activation; //     [T, heads·v]
  readonly h: Activation; //        [T, H] block output
  readonly gate: Activation; //     [T, max(I, I_moe·shared)]
  readonly up: Activation; //       [T, max(I, I_moe·shared)]
  readonly router: Activation | null; // [T, E]
  readonly cosSin: Float32Array; // [T, rope/2, 2]
}

/** The final norm and lm_head over the rows that need logits (the first R of them). */
interface Head {
  readonly x: Activation; //      [rows, H]
  readonly logits: Activation; // [rows, V]
}

/** Step sizes whose scratch is kept (batches change size as streams come and go). */
const KEPT_SIZES = 8;
/** Rows of the kept lm_head scratch; more (all logits of a long prompt) are allocated per call. */
const KEPT_HEAD_ROWS = 64;

export class ForwardPass {
  private readonly freqs: RopeFrequencies;
  private readonly mla: MlaShape;
  /** Per layer: the router's rule and, for noaux_tc, the layer's bias (null on dense layers). */
  private readonly gating: (GatingParams | null)[];
  private readonly scratch = new Map<number, Scratch>();
  private head: Head | null = null;

  constructor(readonly config: ModelConfig, readonly backend: Backend, readonly weights: ModelWeights) {
    const c = config;
    this.freqs = ropeFrequencies(c);
    this.mla = {
      heads: c.numHeads, nope: c.qkNopeHeadDim, rope: c.qkRopeHeadDim, vHeadDim: c.vHeadDim,
      kvLoraRank: c.kvLoraRank, softmaxScale: softmaxScale(c),
    };
    this.gating = weights.layers.map((L) => L.ffn.kind === 'moe'
      ? {
        experts: c.nRoutedExperts, topK: c.numExpertsPerTok, scoring: c.scoringFunc, method: c.topkMethod, groups: c.nGroup,
        topKGroups: c.topkGroup, normTopKProb: c.normTopkProb, routedScalingFactor: c.routedScalingFactor,
        bias: L.ffn.routerBias ?? undefined,
      }
      : null);
  }

  /**
   * Runs the step's rows, writing their latent rows into the cache, and
   * returns the logits of step.logitRows [R × V] (undefined when R = 0).
   */
  async run(cache: LatentCache, step: StepRows): Promise<Float32Array | undefined> {
    const { backend: b, weights: w, config: c, mla } = this;
    const T = step.ids.length;
    const s = this.scratchFor(T);
    const eps = c.rmsNormEps;
    const qHead = c.qkNopeHeadDim + c.qkRopeHeadDim;
    const kvr = c.kvLoraRank;
    ropeCosSin(this.freqs, step.positions, s.cosSin); // each row at its own position

    b.embed(step.ids, w.embed, s.x);
    for (let l = 0; l < c.numLayers; l++) {
      const L = w.layers[l];
      // --- Multi-head Latent Attention ---
      b.rmsnorm(s.x, L.attnNorm, eps, s.xn);
      if (L.query.kind === 'lora') {
        b.matmul(s.xn, L.query.a, s.qa!); //             q_a_proj  [T, H] → [T, q_lora]
        b.rmsnorm(s.qa!, L.query.aNorm, eps, s.qa!); //  q_a_layernorm
        b.matmul(s.qa!, L.query.b, s.q); //              q_b_proj  → [T, heads·(nope+rope)]
      } else {
        b.matmul(s.xn, L.query.proj, s.q); //            q_proj    → [T, heads·(nope+rope)]
      }
      b.rope(columns(s.q, c.qkNopeHeadDim, c.numHeads * qHead - c.qkNopeHeadDim), s.cosSin, c.numHeads, qHead, c.qkRopeHeadDim);
      b.matmul(s.xn, L.kvA, s.kva); //                   kv_a_proj_with_mqa → [T, kv_lora + rope]
      const latent = columns(s.kva, 0, kvr);
      const kpe = columns(s.kva, kvr, c.qkRopeHeadDim);
      b.rmsnorm(latent, L.kvANorm, eps, latent); //      c ← kv_a_layernorm(c)
      b.rope(kpe, s.cosSin, 1, c.qkRopeHeadDim, c.qkRopeHeadDim); // one k_pe shared by all heads
      b.cacheWrite(cache, l, step, latent, kpe); //      the cache holds only c and k_pe, each row in its sequence's blocks
      b.mlaAttention(s.q, cache, l, step, L.absorbed, mla, s.attn); // each row over its own sequence; absorbed: never decompressed
      b.matmul(s.attn, L.o, s.h); //                     o_proj → [T, H]
      b.add(s.x, s.h);

      // --- Feed-forward: dense SwiGLU or DeepSeekMoE ---
      b.rmsnorm(s.x, L.ffnNorm, eps, s.xn);
      if (L.ffn.kind === 'dense') {
        this.swigluMlp(s, L.ffn.mlp, s.h);
        b.add(s.x, s.h);
      } else {
        const gating = this.gating[l];
        if (!isMoeLayer(c, l) || !gating) throw new Error(`layer ${l}: MoE weights on a dense layer`);
        b.matmul(s.xn, L.ffn.router, s.router!); //      router logits [T, E] (f32); experts grouped over all rows
        const plan = await b.route(s.router!, gating); // all T rows at once
        if (L.ffn.shared) {
          this.swigluMlp(s, L.ffn.shared, s.h); //      shared experts, one wide SwiGLU
          b.moeExperts(s.xn, plan, L.ffn.experts, s.h); // + Σ w_k · expert_k
          b.add(s.x, s.h);
        } else {
          b.moeExperts(s.xn, plan, L.ffn.experts, s.x); // routed experts straight into the residual
        }
      }
    }

    const R = step.logitRows.length;
    if (R === 0) {
      b.flush();
      return undefined;
    }
    const head = R <= KEPT_HEAD_ROWS ? (this.head ??= this.createHead(KEPT_HEAD_ROWS)) : this.createHead(R);
    try {
      b.gatherRows(s.x, step.logitRows, head.x); //      [R, H] the rows that sample
      b.rmsnorm(head.x, w.norm, eps, head.x);
      b.matmul(head.x, w.lmHead, head.logits, R); //     one lm_head matmul for all of them → [R, V]
      return await b.read(head.logits, 0, R);
    } finally {
      if (head !== this.head) { b.release(head.x); b.release(head.logits); }
    }
  }

  /** out = down(silu(gate(xn)) · up(xn)) */
  private swigluMlp(s: Scratch, m: DenseMlpWeights, out: Operand): void {
    const width = m.gate.shape[0];
    const g = columns(s.gate, 0, width);
    const u = columns(s.up, 0, width);
    this.backend.matmul(s.xn, m.gate, g);
    this.backend.matmul(s.xn, m.up, u);
    this.backend.swiglu(g, u, g);
    this.backend.matmul(g, m.down, out);
  }

  private scratchFor(T: number): Scratch {
    const existing = this.scratch.get(T);
    if (existing) {
      // Most recently used last: the oldest size is dropped first.
      this.scratch.delete(T);
      this.scratch.set(T, existing);
      return existing;
    }
    if (this.scratch.size >= KEPT_SIZES) {
      const [oldest, victim] = this.scratch.entries().next().value!;
      this.releaseScratch(victim);
      this.scratch.delete(oldest);
    }
    const c = this.config;
    const b = this.backend;
    const ffnWidth = Math.max(c.intermediateSize, c.moeIntermediateSize * c.nSharedExperts, 1);
    const s: Scratch = {
      T,
      x: b.createActivation(T, c.hiddenSize),
      xn: b.createActivation(T, c.hiddenSize),
      qa: c.qLoraRank === null ? null : b.createActivation(T, c.qLoraRank),
      q: b.createActivation(T, c.numHeads * (c.qkNopeHeadDim + c.qkRopeHeadDim)),
      kva: b.createActivation(T, c.kvLoraRank + c.qkRopeHeadDim),
      attn: b.createActivation(T, c.numHeads * c.vHeadDim),
      h: b.createActivation(T, c.hiddenSize),
      gate: b.createActivation(T, ffnWidth),
      up: b.createActivation(T, ffnWidth),
      router: c.nRoutedExperts > 0 ? b.createActivation(T, c.nRoutedExperts) : null,
      cosSin: new Float32Array(T * c.qkRopeHeadDim),
    };
    this.scratch.set(T, s);
    return s;
  }

  private createHead(rows: number): Head {
    return { x: this.backend.createActivation(rows, this.config.hiddenSize), logits: this.backend.createActivation(rows, this.config.vocabSize) };
  }

  private releaseScratch(s: Scratch): void {
    for (const value of Object.values(s)) {
      if (value && typeof value === 'object' && 'rows' in value && 'cols' in value) this.backend.release(value as Activation);
    }
  }

  dispose(): void {
    for (const s of this.scratch.values()) this.releaseScratch(s);
    this.scratch.clear();
    if (this.head) { this.backend.release(this.head.x); this.backend.release(this.head.logits); }
    this.head = null;
  }
}
