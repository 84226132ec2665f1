import { columns } from '../../src/backend/backend.ts';
import { fromF32 } from '../../src/model/dtype.ts';
import { splitKvB } from '../../src/model/load-weights.ts';
import { randomArray } from '../ops/reference.ts';
import { webgpuBackend } from './gpu-backend.ts';
const b = await webgpuBackend({ hostRouteMinTokens: Infinity });
for (const dtype of (process.env.DT ?? 'f32,f16').split(',') as ('f32'|'f16')[]) {
  const heads = 5, nope = 16, rope = 8, v = 12, kvr = 40;
  const kvBBytes = fromF32(dtype, randomArray(heads * (nope + v) * kvr, 61, 0.5));
  const split = splitKvB({ name: 'kv_b', dtype, shape: [heads * (nope + v), kvr], bytes: kvBBytes }, heads, nope, v, kvr);
  console.log(dtype, 'upload');
  const wkb = b.uploadWeight(split.wkb, { layer: 0 });
  const wvb = b.uploadWeight(split.wvb, { layer: 0 });
  const L = 300;
  const cache = b.createLatentCache(2, L, kvr + rope);
  console.log(dtype, 'cache');
  const rows = b.createActivation(L, kvr + rope + 3);
  b.write(rows, randomArray(L * (kvr + rope + 3), 3));
  b.cacheWrite(cache, 1, 0, columns(rows, 0, kvr), columns(rows, kvr + 3, rope));
  const shape = { heads, nope, rope, vHeadDim: v, kvLoraRank: kvr, softmaxScale: 0.3 };
  for (const [pos0, T] of [[4, 3], [7, 1], [0, 70], [299, 1]]) {
    const q = b.createActivation(T, heads * (nope + rope));
    b.write(q, randomArray(T * heads * (nope + rope), 5));
    const out = b.createActivation(T, heads * v + 2);
    b.mlaAttention(q, cache, 1, pos0, { wkb, wvb }, shape, columns(out, 1, heads * v));
    console.log(dtype, pos0, T, (await b.read(out)).slice(0, 3));
    b.release(q); b.release(out);
  }
  b.release(cache); b.release(rows); b.release(wkb); b.release(wvb);
}
b.dispose();
