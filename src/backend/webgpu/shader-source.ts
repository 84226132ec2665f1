// WGSL sources from shaders/ at the repository root, read once per backend
// (shader-files.ts finds the files). weights.wgsl (weight decoding) is
// prepended to the kernels that read weights, and tile_matmul.wgsl (the tiled
// matvec core) to the two matmul kernels: WGSL has no include, and this is the
// only template step.
import { shaderFiles } from './shader-files.ts';

export type ShaderName = 'matmul' | 'rmsnorm' | 'rope' | 'elementwise' | 'embed' | 'mla_attention' | 'route' | 'moe';

const NEEDS_WEIGHTS: ReadonlySet<ShaderName> = new Set(['matmul', 'embed', 'moe']);
const NEEDS_TILE_MATMUL: ReadonlySet<ShaderName> = new Set(['matmul', 'moe']);
const NAMES: readonly ShaderName[] = ['matmul', 'rmsnorm', 'rope', 'elementwise', 'embed', 'mla_attention', 'route', 'moe'];

export type ShaderSources = ReadonlyMap<ShaderName, string>;

/** Reads shaders/ from `dir` when given, else from the package (shader-files.ts). */
export async function loadShaderSources(dir?: URL): Promise<ShaderSources> {
  const files = await shaderFiles('weights.wgsl', dir);
  const read = async (file: string): Promise<string> => {
    const text = await files.read(file);
    if (text === null) throw new Error(`WebGPU backend: cannot read shader ${files.where}${file}`);
    return text;
  };
  const weights = await read('weights.wgsl');
  const tileMatmul = await read('tile_matmul.wgsl');
  const sources = new Map<ShaderName, string>();
  for (const name of NAMES) {
    const parts = [...(NEEDS_WEIGHTS.has(name) ? [weights] : []), ...(NEEDS_TILE_MATMUL.has(name) ? [tileMatmul] : []), await read(`${name}.wgsl`)];
    sources.set(name, parts.join('\n'));
  }
  return sources;
}
