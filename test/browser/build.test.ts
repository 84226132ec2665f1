// The browser build itself (scripts/build-browser.js, run by npm run build and
// test/global-setup.ts): its module graph holds no Node built-in, every file of
// shaders/ is inlined and every Wasm module of build/ ships beside the bundle.
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dist = `${root}/dist/browser`;

interface Metafile { inputs: Record<string, { imports: { path: string; external?: boolean }[] }> }

describe('browser build', () => {
  const meta = JSON.parse(readFileSync(`${dist}/meta.json`, 'utf8')) as Metafile;
  const bundle = readFileSync(`${dist}/edgeseek.js`, 'utf8');

  it('no Node built-in anywhere in its module graph', () => {
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const imported = Object.entries(meta.inputs).flatMap(([file, input]) => input.imports.map((i) => `${file} → ${i.path}`));
    expect(imported.filter((edge) => builtins.has(edge.split(' → ')[1]) || edge.includes('→ node:'))).toEqual([]);
    expect(Object.keys(meta.inputs).filter((file) => /wasm-module-node|source-fs|kernel-workers-node|backend\/webgpu\/shader-files/.test(file)),
      'Node modules replaced by their browser counterparts').toEqual([]);
    expect(bundle).not.toMatch(/["'`]node:[a-z_/]+["'`]/);
  });

  it('every shaders/*.wgsl is inlined and every build/*.wasm ships next to the bundle', () => {
    for (const shader of readdirSync(`${root}/shaders`).filter((f) => f.endsWith('.wgsl'))) {
      const firstLine = readFileSync(`${root}/shaders/${shader}`, 'utf8').split('\n')[0];
      expect(bundle, shader).toContain(`"${shader}"`);
      // esbuild writes each text as a template literal (raw) or a string literal (escaped).
      expect(bundle.includes(firstLine) || bundle.includes(JSON.stringify(firstLine).slice(1, -1)), `${shader}'s first line is in the bundle`).toBe(true);
    }
    const shipped = readdirSync(dist);
    for (const wasm of readdirSync(`${root}/build`).filter((f) => f.endsWith('.wasm'))) {
      expect(shipped, wasm).toContain(wasm);
      expect(readFileSync(`${dist}/${wasm}`).equals(readFileSync(`${root}/build/${wasm}`)), `${wasm} is the current build`).toBe(true);
    }
  });

  it('package.json exports it as edgeseek/browser and under the browser condition of edgeseek', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
    expect(pkg.exports['./browser'].default).toBe('./dist/browser/edgeseek.js');
    const conditions = Object.keys(pkg.exports['.']);
    expect(pkg.exports['.'].browser.default).toBe('./dist/browser/edgeseek.js');
    // Workers also match `browser`: workerd must come first.
    expect(conditions.indexOf('workerd')).toBeLessThan(conditions.indexOf('browser'));
  });
});
