// Failures of the WebGPU backend are clear errors that name what failed, not
// crashes: a weight that cannot be bound, a weight of the wrong size, an
// invalid dispatch reported asynchronously by the device, and a lost device.
import { describe, expect, it } from 'vitest';
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
