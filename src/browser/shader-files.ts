// The browser build's replacement for src/backend/webgpu/shader-files.ts (same
// exports): every file of shaders/ is inlined into the bundle at build time
// (scripts/build-browser.js defines __EDGESEEK_SHADERS__ from the directory,
// so a new shader file is inlined without being listed anywhere).
import type { ShaderFileReader } from '../backend/webgpu/shader-files.ts';

declare const __EDGESEEK_SHADERS__: Record<string, string>;

export type { ShaderFileReader };

/** A reader over the inlined files, or over `dir` (fetched) when a page passes one. */
export async function shaderFiles(probe: string, dir?: URL): Promise<{ where: string; read: ShaderFileReader }> {
  if (dir) {
    const root = new URL(dir.href.endsWith('/') ? dir.href : `${dir.href}/`);
    const read: ShaderFileReader = async (file) => {
      const response = await fetch(new URL(file, root)).catch(() => null);
      return response?.ok ? response.text() : null;
    };
    if ((await read(probe)) === null) throw new Error(`WebGPU backend: no shaders/${probe} at ${root.href}`);
    return { where: root.href, read };
  }
  const inlined = __EDGESEEK_SHADERS__;
  if (!(probe in inlined)) throw new Error(`WebGPU backend: ${probe} is not among the shaders inlined in this build`);
  return { where: 'the bundle: shaders/', read: async (file) => inlined[file] ?? null };
}
