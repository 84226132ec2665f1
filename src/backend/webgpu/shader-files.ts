// The WGSL files of shaders/ at the package root, read where the package is
// (Node, Deno: from disk beside this module; a file served over http(s): by
// fetch). The browser build replaces this module with src/browser/shader-files.ts,
// which holds every file of shaders/ inlined.

/** Reads one file of the shaders/ directory by name; null when it is not there. */
export type ShaderFileReader = (file: string) => Promise<string | null>;

/** src/backend/webgpu/ (tsx, Deno) or dist/src/backend/webgpu/ (built) → <root>/shaders/. */
const CANDIDATE_DIRS = ['../../../shaders/', '../../../../shaders/'];

async function readText(url: URL): Promise<string | null> {
  try {
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      return await readFile(url, 'utf8');
    }
    const response = await fetch(url);
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

/**
 * A reader over `dir` when given, else over the first candidate directory
 * relative to this module that holds `probe` (a file every shaders/ has).
 */
export async function shaderFiles(probe: string, dir?: URL): Promise<{ where: string; read: ShaderFileReader }> {
  const roots = dir ? [new URL(dir.href.endsWith('/') ? dir.href : `${dir.href}/`)] : CANDIDATE_DIRS.map((d) => new URL(d, import.meta.url));
  for (const root of roots) {
    if ((await readText(new URL(probe, root))) === null) continue;
    return { where: root.href, read: (file) => readText(new URL(file, root)) };
  }
  throw new Error(`WebGPU backend: no shaders/${probe} at ${roots.map((r) => r.href).join(' or ')}`);
}
