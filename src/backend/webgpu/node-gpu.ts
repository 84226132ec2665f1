// WebGPU in Node: Dawn from npm `webgpu`. Where the default (Vulkan/Metal/D3D)
// finds no adapter — a Debian host without a GPU — Dawn's OpenGL ES backend on
// Mesa llvmpipe (EGL surfaceless) is the software path that works.
export async function nodeGpu(): Promise<GPU | undefined> {
  const native = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (native) return native;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  let dawn: typeof import('webgpu');
  try { dawn = await import('webgpu'); } catch { return undefined; }
  Object.assign(globalThis, dawn.globals);
  const explicit = process.env.EDGESEEK_DAWN_FLAGS;
  if (explicit !== undefined) return dawn.create(explicit.split(',').filter(Boolean));
  const gpu = dawn.create([]);
  if (await gpu.requestAdapter()) return gpu;
  process.env.EGL_PLATFORM ??= 'surfaceless';
  return dawn.create(['backend=opengles']);
}
