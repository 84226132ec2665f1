// Exports of assembly/kernels (see assembly/index.ts).
