// WebGPU in Node for tests: Dawn (npm `webgpu`) on Mesa llvmpipe through
// OpenGL ES, the only software path Dawn accepts on Debian 12.
export async function nodeGpu(): Promise<GPU> {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  return create(['backend=opengles']);
}
