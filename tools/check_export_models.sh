#!/usr/bin/env bash
# tools/check_export_models.sh [DIR] — end-to-end check of the training mirror on export-shaped models (issue 14):
# makes them with tools/make_export_models.py (random weights, random data), then for each runs
# `lrdkt compress --target-macs 0.5`, `lrdkt finetune` (3 epochs, label-free) and `lrdkt eval` of the fine-tuned
# student against its teacher in ONNX Runtime. A model must fine-tune or be refused in one line.
# Usage (repo root): tools/check_export_models.sh /tmp/lrdkt-exports
set -uo pipefail
dir=${1:-/tmp/lrdkt-exports}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
/usr/bin/python3 tools/make_export_models.py "$dir" || exit 1
status=0
for m in keras_tf2onnx fp16_torch fp16_weights segmenter detector; do
  data=$dir/nchw.npy
  [ "$m" = keras_tf2onnx ] && data=$dir/nhwc.npy
  echo "=== $m"
  ./lrdkt compress "$dir/$m.onnx" --target-macs 0.5 -o "$dir/$m.lrd.onnx" 2>&1 | tail -2
  if ./lrdkt finetune --teacher "$dir/$m.onnx" --student "$dir/$m.lrd.onnx" --data "$data" --epochs 3 --batch 16 \
      --lr 0.005 -o "$dir/$m.ft.onnx" > "$dir/$m.finetune.log" 2>&1; then
    grep -E '^[0-9]|teacher held-out' "$dir/$m.finetune.log"
    ./lrdkt eval --model "$dir/$m.ft.onnx" --reference "$dir/$m.onnx" --data "$data" 2>&1 | grep -E 'agreement|cosine'
  else
    tail -1 "$dir/$m.finetune.log"
    [ "$(grep -c . "$dir/$m.finetune.log")" -le 2 ] || status=1 # a refusal is one line; anything longer is a failure
  fi
done
exit $status
