// Adapter and device setup: feature and limit detection for the WebGPU
// backend. Works with navigator.gpu (Deno, browsers) and with npm `webgpu`'s
// create() in Node (Dawn; on Mesa llvmpipe only OpenGL ES, i.e. the
// 'compatibility' feature level, whose default limits are small).

export interface GpuDevice {
  /**
   * The entry point the device came from. Held for the device's lifetime:
   * Dawn's Node binding crashes in ProcessEvents when its instance is
   * garbage-collected under a live device.
   */
  readonly gpu: GPU;
  readonly device: GPUDevice;
  /** Adapter vendor/architecture/description, for benchmark reports. */
  readonly description: string;
  readonly shaderF16: boolean;
  readonly timestamps: boolean;
  /** Largest storage binding: weights above it are split across buffers. */
  readonly maxBinding: number;
  readonly maxBufferSize: number;
  readonly featureLevel: 'core' | 'compatibility';
}

/** Limits the kernels need beyond compatibility mode's defaults. */
const NEEDED_LIMITS = {
  maxStorageBuffersPerShaderStage: 5,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 64,
  maxComputeWorkgroupSizeX: 64,
} as const;

const RAISED_LIMITS = [
  'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxStorageBufferBindingSize', 'maxBufferSize',
] as const;

export async function requestGpuDevice(gpu: GPU): Promise<GpuDevice> {
  let featureLevel: 'core' | 'compatibility' = 'core';
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    featureLevel = 'compatibility';
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  }
  if (!adapter) throw new Error('WebGPU: no adapter (requestAdapter returned null for core and compatibility feature levels)');
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const [name, needed] of Object.entries(NEEDED_LIMITS)) {
    if (limits[name] < needed) {
      throw new Error(`WebGPU adapter limit ${name} is ${limits[name]}; the edgeseek kernels need ${needed}`);
    }
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) if (limits[name] !== undefined) requiredLimits[name] = limits[name];
  const requiredFeatures: GPUFeatureName[] = [];
  const shaderF16 = adapter.features.has('shader-f16');
  const timestamps = adapter.features.has('timestamp-query');
  if (shaderF16) requiredFeatures.push('shader-f16');
  if (timestamps) requiredFeatures.push('timestamp-query');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const description = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') : 'unknown adapter';
  return {
    gpu, device, description, shaderF16, timestamps, featureLevel,
    maxBinding: device.limits.maxStorageBufferBindingSize,
    maxBufferSize: device.limits.maxBufferSize,
  };
}
