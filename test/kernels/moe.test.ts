// MoE router (moe_route) and batch dispatch (moe_group, gather_rows,
// scatter_add_rows) against JS references: the router against test/ops'
// routeRef (MoEGate.forward of DeepSeek-V2 and V3): every method, norm on and
// off, scale ≠ 1, k = 1, sigmoid scores with a correction bias large enough to
// change the choice, and deliberately tied logits (ties go to the lower
// expert / group index).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_METHOD, ROUTE_SCORING, routeScratchBytes } from '../../src/backend/cpu/kernel-exports.ts';
import type { WasmInstance } from '../../src/backend/cpu/wasm-instance.ts';
import { routeRef, type RouteRule } from '../ops/reference.ts';
import {
  allocRegion, fenceIntact, kernelInstance, poisonedF32, printRecordedErrors, putF32, putI32, randomF32, readF32,
  readI32, recordRel, relError, release, rng,
} from './support.ts';

let inst: WasmInstance;
beforeAll(async () => { inst = await kernelInstance(); });
afterAll(printRecordedErrors);

interface Route extends RouteRule { E: number; k: number }

function route(logits: Float32Array, stride: number, T: number, r: Route): { idx: Int32Array; w: Float32Array } {
  const lR = putF32(inst, logits);
  const biasR = putF32(inst, Float32Array.from(r.bias ?? [0]));
  const idxR = allocRegion(inst, T * r.k * 4);
  inst.i32().fill(-7, idxR.ptr / 4, idxR.ptr / 4 + T * r.k);
  const wR = poisonedF32(inst, T * r.k);
  const scratchR = allocRegion(inst, routeScratchBytes(r.E, r.groups));
  inst.exports.moe_route(
    lR.ptr, stride, T, r.E, r.k, ROUTE_SCORING[r.scoring], ROUTE_METHOD[r.method], r.groups, r.topKGroups,
    r.norm ? 1 : 0, r.scale, r.bias ? biasR.ptr : 0, idxR.ptr, wR.ptr, scratchR.ptr,
  );
  for (const region of [idxR, wR, scratchR]) expect(fenceIntact(inst, region), 'memory past outputs/scratch untouched').toBe(true);
  const out = { idx: readI32(inst, idxR), w: readF32(inst, wR) };
  release(inst, lR, biasR, idxR, wR, scratchR);
  return out;
}

function check(name: string, logits: Float32Array, stride: number, T: number, r: Route): void {
  const { idx, w } = route(logits, stride, T, r);
  const refW: number[] = [];
  for (let t = 0; t < T; t++) {
    const ref = routeRef(logits.subarray(t * stride, t * stride + r.E), r.E, r.k, r);
    expect([...idx.subarray(t * r.k, (t + 1) * r.k)], `${name}: experts of token ${t}`).toEqual(ref.experts);
    refW.push(...ref.weights);
  }
  const rel = recordRel(name, relError(w, refW));
  expect(rel, `${name}: weights rel=${rel}`).toBeLessThan(1e-6);
}

const GREEDY: Route = { E: 64, k: 6, scoring: 'softmax', method: 'greedy', groups: 1, topKGroups: 1, norm: false, scale: 1 };
const GROUPED: Route = { E: 160, k: 6, scoring: 'softmax', method: 'group_limited_greedy', groups: 8, topKGroups: 3, norm: false, scale: 16 };
/** DeepSeek-V3's shape (256 experts, 8 groups, 4 kept, top-8), bias in [−0.5, 0.5): it moves the choice of most tokens. */
const V3: Route = {
  E: 256, k: 8, scoring: 'sigmoid', method: 'noaux_tc', groups: 8, topKGroups: 4, norm: true, scale: 2.5,
  bias: randomF32(256, 31, 0.5),
};
/** Moonlight's shape: one group, top-6 of 64. */
const V3_ONE_GROUP: Route = { ...V3, E: 64, k: 6, groups: 1, topKGroups: 1, scale: 2.446, bias: randomF32(64, 32, 0.5) };

describe('moe_route', () => {
  const variants: [string, Route][] = [
    ['greedy, scale 1', GREEDY],
    ['greedy, normalized', { ...GREEDY, norm: true }],
    ['greedy, scale 2.5', { ...GREEDY, scale: 2.5 }],
    ['greedy, k=1 ignores norm and scales', { ...GREEDY, k: 1, norm: true, scale: 1.5 }],
    ['group_limited, scale 16', GROUPED],
    ['group_limited, normalized', { ...GROUPED, norm: true }],
    ['group_limited, k=1', { ...GROUPED, k: 1, scale: 0.5 }],
    ['group_limited, E not a multiple of 4', { E: 15, k: 4, scoring: 'softmax', method: 'group_limited_greedy', groups: 5, topKGroups: 2, norm: true, scale: 1 }],
    ['noaux_tc 8 groups, normalized then scaled', V3],
    ['noaux_tc 8 groups, not normalized (scaled only)', { ...V3, norm: false }],
    ['noaux_tc one group', V3_ONE_GROUP],
    ['noaux_tc k=1 (never normalized, scaled)', { ...V3_ONE_GROUP, k: 1 }],
    ['noaux_tc groups of 3, E not a multiple of 4', { ...V3, E: 15, k: 4, groups: 5, topKGroups: 2, bias: randomF32(15, 33, 0.5) }],
  ];
  for (const [name, r] of variants) {
    it(`${name}: random logits`, () => {
      const T = 5, stride = r.E + 3;
      check(`moe_route ${name}`, randomF32(T * stride, 40 + r.E + r.k, 4), stride, T, r);
    });
    it(`${name}: tied logits go to the lower index`, () => {
      const T = 4, stride = r.E;
      const next = rng(50 + r.k);
      // Few distinct values: many experts and whole groups tie exactly (the bias too, where there is one).
      const logits = Float32Array.from({ length: T * stride }, () => [0, 0.5, 1][Math.floor(next() * 3)]);
      logits.fill(0.25, 0, r.E); // token 0: every expert ties
      const tied = r.bias ? { ...r, bias: Float32Array.from(r.bias, (b) => (b > 0 ? 0.25 : 0)) } : r;
      check(`moe_route ${name} tied`, logits, stride, T, tied);
    });
  }

  it('the correction bias changes the choice but not the weights', () => {
    const T = 32, r = V3;
    const logits = randomF32(T * r.E, 34, 4);
    const biased = route(logits, r.E, T, r);
    const unbiased = route(logits, r.E, T, { ...r, bias: new Float32Array(r.E) });
    let moved = 0;
    for (let t = 0; t < T; t++) {
      const a = [...biased.idx.subarray(t * r.k, (t + 1) * r.k)].sort();
      const b = [...unbiased.idx.subarray(t * r.k, (t + 1) * r.k)].sort();
      if (a.join() !== b.join()) moved++;
    }
    expect(moved, 'tokens whose experts the bias changed').toBeGreaterThan(T / 2);
    check('moe_route bias', logits, r.E, T, r);
  });

  it('group_limited ties between groups keep the lower group index', () => {
    // Groups 1, 2 and 3 share the best max; topKGroups = 2 keeps groups 1 and 2 only.
    const r: Route = { E: 16, k: 4, scoring: 'softmax', method: 'group_limited_greedy', groups: 4, topKGroups: 2, norm: true, scale: 1 };
    const logits = new Float32Array(16).fill(-1);
    logits[5] = 2; logits[9] = 2; logits[13] = 2; logits[14] = 1.9;
    const { idx } = route(logits, 16, 1, r);
    expect([...idx]).toEqual([5, 9, 4, 6]);
    check('moe_route group ties', logits, 16, 1, r);
  });

  it('noaux_tc scores a group by its two best experts, not its best', () => {
    // Group 0 has the single best expert (0) but group 1 the best pair (4, 5): one group kept.
    const r: Route = { E: 8, k: 2, scoring: 'sigmoid', method: 'noaux_tc', groups: 2, topKGroups: 1, norm: true, scale: 1, bias: new Float32Array(8) };
    const logits = Float32Array.from([4, -3, -3, -3, 2, 2, -3, -3]);
    const { idx } = route(logits, 8, 1, r);
    expect([...idx]).toEqual([4, 5]);
    check('moe_route top-2 group score', logits, 8, 1, r);
  });
});

describe('moe_group', () => {
  it('lists slots by (expert, token) with per-expert counts', () => {
    const T = 7, k = 3, E = 10;
    const next = rng(61);
    const idx: number[] = [];
    for (let t = 0; t < T; t++) {
      const chosen = new Set<number>();
      while (chosen.size < k) chosen.add(Math.floor(next() * (E - 2))); // experts 8, 9 stay idle
      idx.push(...chosen);
    }
    const idxR = putI32(inst, idx);
    const countsR = putI32(inst, new Array(E).fill(-5));
    const orderR = putI32(inst, new Array(T * k + E).fill(-5));
    const active = inst.exports.moe_group(idxR.ptr, T, k, E, countsR.ptr, orderR.ptr);
    const counts = [...readI32(inst, countsR)];
    const order = [...readI32(inst, orderR)].slice(0, T * k);
    const expectedOrder = [...idx.keys()].sort((a, b) => idx[a] - idx[b] || Math.floor(a / k) - Math.floor(b / k));
    const expectedCounts = Array.from({ length: E }, (_, e) => idx.filter((v) => v === e).length);
    expect(order).toEqual(expectedOrder);
    expect(counts).toEqual(expectedCounts);
    expect(active).toBe(expectedCounts.filter((c) => c > 0).length);
    for (const r of [countsR, orderR]) expect(fenceIntact(inst, r)).toBe(true);
    release(inst, idxR, countsR, orderR);
  });
});

describe('gather_rows and scatter_add_rows', () => {
  const cols = 77, srcStride = 83;

  it('gather_rows copies the listed rows, repeats included', () => {
    const rows = [4, 0, 4, 2, 6];
    const src = randomF32(7 * srcStride, 70);
    const sR = putF32(inst, src);
    const rR = putI32(inst, rows);
    const dR = poisonedF32(inst, rows.length * cols);
    inst.exports.gather_rows(sR.ptr, srcStride, rR.ptr, rows.length, cols, dR.ptr);
    const got = readF32(inst, dR);
    rows.forEach((r, i) => expect([...got.subarray(i * cols, (i + 1) * cols)]).toEqual([...src.subarray(r * srcStride, r * srcStride + cols)]));
    expect(fenceIntact(inst, dR)).toBe(true);
    release(inst, sR, rR, dR);
  });

  it('scatter_add_rows accumulates weighted rows, several into the same destination', () => {
    const rows = [3, 1, 3, 0, 3];
    const weights = [0.7, -1.25, 0.3, 2, 0.125];
    const dstStride = 80;
    const src = randomF32(rows.length * cols, 71);
    const dst = randomF32(4 * dstStride, 72);
    const sR = putF32(inst, src);
    const rR = putI32(inst, rows);
    const wR = putF32(inst, weights);
    const dR = putF32(inst, dst);
    inst.exports.scatter_add_rows(sR.ptr, cols, rR.ptr, wR.ptr, rows.length, dR.ptr, dstStride);
    const ref = Float64Array.from(dst);
    rows.forEach((r, i) => { for (let c = 0; c < cols; c++) ref[r * dstStride + c] += weights[i] * src[i * cols + c]; });
    const got = readF32(inst, dR);
    const rel = recordRel('scatter_add_rows', relError(got, ref));
    expect(rel, `scatter_add_rows rel=${rel}`).toBeLessThan(1e-6);
    for (let c = cols; c < dstStride; c++) expect(got[c], 'columns past cols untouched').toBe(dst[c]);
    expect(fenceIntact(inst, dR)).toBe(true);
    release(inst, sR, rR, wR, dR);
  });
});
