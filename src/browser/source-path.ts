// The browser build's replacement for src/model/source-fs.ts (same exports):
// a page has no file system, so a model "path" is a URL relative to the page.
import { urlSource } from '../entries/fetch-source.ts';
import type { ModelSource } from '../model/source.ts';
import { pageUrl } from './cached-source.ts';

export async function fsSource(path: string): Promise<ModelSource> {
  return urlSource(pageUrl(path));
}
