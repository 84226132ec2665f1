// wrangler.toml [alias] target: @huggingface/gguf imports 'url' without the node: prefix.
export * from 'node:url';
