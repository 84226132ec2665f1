// The bundled default model (README "The default model"): the one place its
// location is written down. Relative to the package root; the worker serves
// the same directory as static assets (wrangler.toml [assets]).
export const DEFAULT_MODEL_DIR = 'models/default';
