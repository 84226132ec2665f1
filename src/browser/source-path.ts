// The browser build's replacement for src/model/source-fs.ts (same exports):
// a page has no file system, so a model "path" is a URL relative to the page.
import { urlSource } from '../entries/fetch-source.ts';
import type { ModelSource } from '../model/source.ts';

export async function fsSource(path: string): Promise<ModelSource> {
  const base = (globalThis as { document?: { baseURI: string } }).document?.baseURI ?? (globalThis as { location?: { href: string } }).location?.href;
  if (!base) throw new Error(`model path ${path}: no file system here and no page URL to resolve it against; give the model as a URL`);
  return urlSource(new URL(path, base).toString());
}
