#!/usr/bin/env bash
# The WebGPU benchmark as one prepared run for a machine with a real GPU
# (Node + Dawn on Vulkan/Metal/D3D12; no browser needed):
#   PEAK_GBS=4800 bench/webgpu-gpu-machine.sh [extra bench/webgpu.ts flags]
# PEAK_GBS is the GPU's datasheet memory bandwidth in GB/s (H100 SXM 3350,
# H200 4800, A100-80G 2039, RTX 4090 1008); the report gives the decode step's
# achieved fraction of it. Writes bench/results/webgpu-<gpu>-<date>.json and
# prints it; its numbers go to BENCHMARKS.md with the GPU named.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-fixtures-large/deepseek-v2-lite-3l-q8_0.gguf}
[ -d node_modules ] || npm ci
[ -f build/edgeseek.wasm ] || npm run build:wasm
if [ ! -f "$MODEL" ]; then
  python3 tools/fixtures/make_bench_model.py --type q8_0 --out fixtures-large
fi
GPU_NAME=$( (nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo gpu) | head -1 | tr ' /' '__')
mkdir -p bench/results
OUT="bench/results/webgpu-${GPU_NAME}-$(date -u +%Y%m%dT%H%M%SZ).json"
ARGS=(--model "$MODEL" --prompt-tokens "${PROMPT_TOKENS:-128}" --gen-tokens "${GEN_TOKENS:-32}" --contexts 512,4096,16384 --out "$OUT")
[ -n "${PEAK_GBS:-}" ] && ARGS+=(--peak-gbs "$PEAK_GBS")
npx tsx bench/webgpu.ts "${ARGS[@]}" "$@"
echo "wrote $OUT (GPU: ${GPU_NAME})" >&2
