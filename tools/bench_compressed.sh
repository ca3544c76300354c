#!/usr/bin/env bash
# Reproduces BENCHMARKS.md "Compressed models in ONNX Runtime": LeNet-5 at several energy thresholds (accuracy
# before fine-tuning and measured speedup) and torchvision ResNet-18 at the paper's threshold e = 0.7.
# Run from the repository root after  /usr/bin/python3 tools/make_torchvision_models.py models resnet18
# OUT (default /tmp/lrdkt-bench-compressed) receives the students and every command's output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${1:-/tmp/lrdkt-bench-compressed}"
THREADS="${THREADS:-2}"
mkdir -p "$OUT"
echo "## machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
run() { echo "\$ $*"; "$@"; }

for e in 0.5 0.7 0.9; do
  run ./lrdkt compress testdata/lenet5.onnx --energy "$e" -o "$OUT/lenet5_e$e.onnx" | tail -2
  run ./lrdkt eval --model "$OUT/lenet5_e$e.onnx" --reference testdata/lenet5.onnx \
    --data testdata/mnist/t10k-images-idx3-ubyte.gz --threads "$THREADS" | grep -E "top-1 (accuracy|agreement)"
done
for batch in 1 64; do
  run ./lrdkt bench testdata/lenet5.onnx "$OUT/lenet5_e0.5.onnx" "$OUT/lenet5_e0.7.onnx" "$OUT/lenet5_e0.9.onnx" \
    --batch "$batch" --threads "$THREADS" --warmup 50 --runs 1000 --block 50
done

run ./lrdkt compress models/resnet18.onnx --energy 0.7 -o "$OUT/resnet18_e0.7.onnx" | tail -2
run ./lrdkt bench models/resnet18.onnx "$OUT/resnet18_e0.7.onnx" --batch 1 --threads "$THREADS" --warmup 10 \
  --runs 100 --block 10
