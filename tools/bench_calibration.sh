#!/usr/bin/env bash
# Cost of the calibrated closed form on VGG-16: `compress --energy E` with and without `--calibration` on N images
# at 224x224, in A B B A order (same machine load for both), wall time and peak RSS of each run, ratios per pair.
# The images are seeded uniform noise (no ImageNet here): they cost what real ones do, but say nothing of accuracy.
# Usage: tools/bench_calibration.sh [OUT_DIR] [N] [ENERGY]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/lrdkt-calibration-bench}"
n="${2:-256}"
energy="${3:-0.7}"
mkdir -p "$out"
model="$root/models/vgg16.onnx"
[[ -f "$model" ]] || /usr/bin/python3 "$root/tools/make_torchvision_models.py" "$root/models" vgg16 >&2
images="$out/noise_${n}x3x224x224.npy"
[[ -f "$images" ]] || /usr/bin/python3 -c "
import numpy as np, sys
np.save(sys.argv[1], np.random.default_rng(0).random((int(sys.argv[2]), 3, 224, 224), dtype=np.float32))
" "$images" "$n"
"$root/lrdkt" --help >/dev/null 2>&1 || true  # build outside the timed runs
run() { # label [extra flags...]
  local label="$1"; shift
  /usr/bin/time -v "$root/lrdkt" compress "$model" -o "$out/$label.onnx" --energy "$energy" "$@" \
    >"$out/$label.log" 2>"$out/$label.time"
  local wall rss
  wall="$(grep -oP 'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): \K.*' "$out/$label.time")"
  rss="$(grep -oP 'Maximum resident set size \(kbytes\): \K.*' "$out/$label.time")"
  printf '%s\t%s\t%d MiB\t(load %s)\n' "$label" "$wall" "$((rss / 1024))" "$(cut -d' ' -f1 /proc/loadavg)"
}
echo "model $(du -mL "$model" | cut -f1) MiB; calibration: $n images; energy $energy; $(nproc) cores"
run plain1; run calibrated1 --calibration "$images" --calibration-samples "$n"
run calibrated2 --calibration "$images" --calibration-samples "$n"; run plain2
