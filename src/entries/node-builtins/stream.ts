// wrangler.toml [alias] target: @huggingface/gguf imports 'stream' without the node: prefix.
export { Readable, Writable, Duplex, Transform, PassThrough, pipeline } from 'node:stream';
