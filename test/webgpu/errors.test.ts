// Failures of the WebGPU backend are clear errors that name what failed, not
// crashes: a weight that cannot be bound, a weight of the wrong size, an
// invalid dispatch reported asynchronously by the device, and a lost device.
import { describe, expect, it } from 'vitest';
import { loadModelRunner } from '../../src/engine/runner.ts';
import { fsSource } from '../../src/model/source-fs.ts';
import { GOLDEN_DIR } from '../support/golden.ts';
import { randomArray } from '../ops/reference.ts';
import { weightOf } from './fixtures.ts';
import { NO_GPU, webgpuBackend } from './gpu-backend.ts';

describe.skipIf(NO_GPU)('webgpu backend errors', () => {
  it('a weight row larger than a storage binding is refused with its name and sizes', async () => {
    const b = await webgpuBackend({ maxPartBytes: 1024 });
    expect(() => weightOf(b, 'model.layers.0.mlp.down_proj', 'f32', [4, 300], 1))
      .toThrow(/model\.layers\.0\.mlp\.down_proj: one row of f32 needs 1200 bytes, more than the largest storage binding \(1024\)/);
    b.dispose();
  });

  it('a model with a tensor beyond the binding limit says it does not fit before anything is uploaded', async () => {
    // tiny-a's per-head W_UKᵀ [32, 16] (from kv_b_proj) is 2 KiB of f32 and must sit in one binding.
    const b = await webgpuBackend({ maxPartBytes: 512 });
    let uploads = 0;
    const upload = b.uploadWeight.bind(b);
    b.uploadWeight = (data, placement) => { uploads++; return upload(data, placement); };
    await expect(loadModelRunner(await fsSource(GOLDEN_DIR), b))
      .rejects.toThrow(/model\.safetensors does not fit this GPU \(.*\): model\.layers\.0\.self_attn\.kv_b_proj\[W_UKᵀ\]: one \[32, 16\] matrix of f32 needs 2048 bytes, more than the largest storage binding \(512\)/);
    expect(uploads, 'weights uploaded before the check failed').toBe(0);
    b.dispose();
  });

  it('a weight whose bytes do not match its dtype and shape is refused with its name', async () => {
    const b = await webgpuBackend();
    expect(() => b.uploadWeight({ name: 'lm_head', dtype: 'q8_0', shape: [4, 64], bytes: new Uint8Array(100) }, { layer: -2 }))
      .toThrow(/lm_head: 100 bytes for q8_0 \[4, 64\], expected 272/);
    b.dispose();
  });

  it('an op after the device is lost throws "WebGPU device lost", naming the op', async () => {
    const b = await webgpuBackend();
    const { weight } = weightOf(b, 'w', 'f32', [3, 8], 2);
    const x = b.createActivation(1, 8);
    b.write(x, randomArray(8, 3));
    const out = b.createActivation(1, 3);
    b.rec.device.destroy();
    await b.rec.device.lost;
    expect(() => b.matmul(x, weight, out)).toThrow(/WebGPU device lost .* while matmul w/);
    await expect(b.read(out)).rejects.toThrow(/WebGPU device lost/);
  });
});
