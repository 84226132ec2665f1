// The WebGPU backend for tests: Dawn (npm `webgpu`) on Mesa llvmpipe through
// OpenGL ES in Node. No adapter is a failure, not a skip, unless
// EDGESEEK_NO_GPU_TESTS=1 says this machine has no WebGPU at all.
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from '../../src/backend/webgpu/webgpu-backend.ts';
import { nodeGpu } from '../support/gpu.ts';

export const NO_GPU = process.env.EDGESEEK_NO_GPU_TESTS === '1';

export async function webgpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  try {
    return await createWebGpuBackend(await nodeGpu(), options);
  } catch (error) {
    throw new Error(`no WebGPU backend under Node/Dawn (set EDGESEEK_NO_GPU_TESTS=1 only where no GPU stack exists): ${(error as Error).message}`);
  }
}
