// Exports of assembly/moe (see assembly/index.ts and src/backend/cpu/kernel-exports.ts).
export { moe_route } from './gating';
export { moe_group, gather_rows, scatter_add_rows } from './dispatch';
