// wrangler.toml [alias] target: @huggingface/gguf imports 'fs' without the node: prefix.
export * from 'node:fs';
