#!/usr/bin/env bash
# Issue 4/6: ONNX Runtime CPU speedup of VGG-16 rewritten at the paper's LRDKT-0.7 ranks, batch 1 and 8,
# alternating blocks of runs against the original in the same process. Builds the student with
# tools/bench_vgg16_paper_ranks.sh (SKIP_NUMPY=1) into OUT first.  Usage: tools/bench_vgg16_speed.sh [OUT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/lrdkt-vgg16-bench}"
THREADS="${THREADS:-2}"
[[ -f "$out/vgg16_lrdkt07.onnx" ]] || SKIP_NUMPY=1 "$root/tools/bench_vgg16_paper_ranks.sh" "$out"
echo "## machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
for batch in 1 8; do
  echo "\$ ./lrdkt bench models/vgg16.onnx $out/vgg16_lrdkt07.onnx --batch $batch --threads $THREADS --warmup 5 --runs 40 --block 5"
  "$root/lrdkt" bench "$root/models/vgg16.onnx" "$out/vgg16_lrdkt07.onnx" --batch "$batch" --threads "$THREADS" \
    --warmup 5 --runs 40 --block 5
done
