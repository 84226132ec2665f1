// wrangler.toml [alias] target: @huggingface/gguf imports 'fs/promises' without the node: prefix.
export * from 'node:fs/promises';
