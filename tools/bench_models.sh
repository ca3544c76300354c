#!/usr/bin/env bash
# Reproduces the measured tables in BENCHMARKS.md (section "lrdkt bench"). Run from the repository root after
#   /usr/bin/python3 tools/make_torchvision_models.py models resnet18
# Each command prints the machine line, per-model latency and the ratios against the first model.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "## machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
THREADS="${THREADS:-2}"

# Noise floor: the same model twice in one run; the speedup should be ~1.00.
echo '$ ./lrdkt bench models/resnet18.onnx models/resnet18.onnx --batch 1 --threads '"$THREADS"' --warmup 10 --runs 60 --block 10'
./lrdkt bench models/resnet18.onnx models/resnet18.onnx --batch 1 --threads "$THREADS" --warmup 10 --runs 60 --block 10

for batch in 1 64; do
  echo '$ ./lrdkt bench testdata/lenet5.onnx testdata/lenet5.onnx --batch '"$batch"' --threads '"$THREADS"' --warmup 50 --runs 500 --block 50'
  ./lrdkt bench testdata/lenet5.onnx testdata/lenet5.onnx --batch "$batch" --threads "$THREADS" --warmup 50 --runs 500 --block 50
done
