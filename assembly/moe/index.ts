// Exports of assembly/moe (see assembly/index.ts).
