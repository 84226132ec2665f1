// WGSL sources from shaders/ at the repository root, read once per backend.
// weights.wgsl (weight decoding) is prepended to the kernels that read
// weights, and tile_matmul.wgsl (the tiled matvec core) to the two matmul
// kernels: WGSL has no include, and this is the only template step.

export type ShaderName = 'matmul' | 'rmsnorm' | 'rope' | 'elementwise' | 'embed' | 'mla_attention' | 'route' | 'moe';

const NEEDS_WEIGHTS: ReadonlySet<ShaderName> = new Set(['matmul', 'embed', 'moe']);
const NEEDS_TILE_MATMUL: ReadonlySet<ShaderName> = new Set(['matmul', 'moe']);
const NAMES: readonly ShaderName[] = ['matmul', 'rmsnorm', 'rope', 'elementwise', 'embed', 'mla_attention', 'route', 'moe'];

export type ShaderSources = ReadonlyMap<ShaderName, string>;

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

/** Reads shaders/ from `dir` when given, else from the candidates relative to this module. */
export async function loadShaderSources(dir?: URL): Promise<ShaderSources> {
  const base = new URL(import.meta.url);
  const roots = dir ? [new URL(dir.href.endsWith('/') ? dir.href : `${dir.href}/`)] : CANDIDATE_DIRS.map((d) => new URL(d, base));
  for (const root of roots) {
    const weights = await readText(new URL('weights.wgsl', root));
    if (weights === null) continue;
    const tileMatmul = await readText(new URL('tile_matmul.wgsl', root));
    if (tileMatmul === null) throw new Error(`WebGPU backend: cannot read shader ${new URL('tile_matmul.wgsl', root).href}`);
    const sources = new Map<ShaderName, string>();
    for (const name of NAMES) {
      const text = await readText(new URL(`${name}.wgsl`, root));
      if (text === null) throw new Error(`WebGPU backend: cannot read shader ${new URL(`${name}.wgsl`, root).href}`);
      const parts = [...(NEEDS_WEIGHTS.has(name) ? [weights] : []), ...(NEEDS_TILE_MATMUL.has(name) ? [tileMatmul] : []), text];
      sources.set(name, parts.join('\n'));
    }
    return sources;
  }
  throw new Error(`WebGPU backend: no shaders/weights.wgsl at ${roots.map((r) => r.href).join(' or ')}`);
}
