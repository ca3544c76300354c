#!/usr/bin/env bash
# The calibrated closed form on the trained LeNet-5 at a quarter of its MACs (README, BENCHMARKS.md "Calibrated
# closed form"): top-1 before fine-tuning without and with calibration, and one epoch of knowledge transfer from
# each student over three seeds. With -s, also the shrinkage sweep the default was chosen by, scored on the training
# digits (validation), never on the test digits.
# Usage: tools/bench_calibration_lenet.sh [-s] [OUT_DIR]
set -euo pipefail
sweep=0
if [[ "${1:-}" == "-s" ]]; then sweep=1; shift; fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/lrdkt-calibration-lenet}"
mkdir -p "$out"
lrdkt="$root/lrdkt"
teacher="$root/testdata/lenet5.onnx"
data="$root/testdata/mnist"
test="$data/t10k-images-idx3-ubyte.gz"
top1() { "$lrdkt" eval --model "$1" --data "$2" 2>&1 | grep -oP '^top-1 accuracy\s+\K.*'; }
"$lrdkt" --help >/dev/null 2>&1 || true  # build first
if (( sweep )); then
  echo "shrinkage sweep, top-1 on the 8,000 training digits (validation)"
  for ranks in weights data; do
    for a in 0 0.01 0.1 0.3 1 3; do
      "$lrdkt" compress "$teacher" --target-macs 0.25 --calibration "$data" --calibration-ranks "$ranks" \
        --calibration-shrinkage "$a" -o "$out/sweep.onnx" >/dev/null
      printf 'ranks %-7s shrinkage %-4s %s\n' "$ranks" "$a" "$(top1 "$out/sweep.onnx" "$data/train-images-idx3-ubyte.gz")"
    done
  done
fi
"$lrdkt" compress "$teacher" --target-macs 0.25 -o "$out/plain.onnx" >/dev/null
"$lrdkt" compress "$teacher" --target-macs 0.25 --calibration "$data" -o "$out/calibrated.onnx" >/dev/null
"$lrdkt" compress "$teacher" --target-macs 0.25 --calibration "$data" --calibration-ranks weights \
  -o "$out/calibrated-weight-ranks.onnx" >/dev/null
echo "closed form, top-1 on the 2,000 test digits (teacher $(top1 "$teacher" "$test"))"
for s in plain calibrated calibrated-weight-ranks; do printf '%-24s %s\n' "$s" "$(top1 "$out/$s.onnx" "$test")"; done
echo "one epoch of KT (--epochs 1 --warmup-epochs 0), top-1 on the test digits"
for seed in 1 2 3; do
  for s in plain calibrated; do
    "$lrdkt" finetune --teacher "$teacher" --student "$out/$s.onnx" --data "$data" --epochs 1 --warmup-epochs 0 \
      --seed "$seed" -o "$out/$s-1epoch-$seed.onnx" >/dev/null 2>&1
    printf 'seed %s %-10s %s\n' "$seed" "$s" "$(top1 "$out/$s-1epoch-$seed.onnx" "$test")"
  done
done
