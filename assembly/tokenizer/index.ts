// Exports of assembly/tokenizer (see assembly/index.ts).
