#!/usr/bin/env bash
# tools/check_export_models.sh [DIR] — end-to-end check of the training mirror on export-shaped models (issue 14):
# makes them with tools/make_export_models.py (random weights, random data), then for each runs
# `lrdkt compress --target-macs 0.5`, `lrdkt finetune` (3 epochs, label-free), `lrdkt eval` of the fine-tuned
# student against its teacher in ONNX Runtime, and `lrdkt run` (the whole pipeline, 1 epoch). Strict: the check
# fails when any model is refused by any command, when a written model does not pass ONNX's checker, or when it
# stores its weights in other float types than its teacher (an fp16 export must stay fp16).
# Usage (repo root): tools/check_export_models.sh /tmp/lrdkt-exports
set -uo pipefail
dir=${1:-/tmp/lrdkt-exports}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
/usr/bin/python3 tools/make_export_models.py "$dir" || exit 1
status=0

fail() { echo "FAILED $1"; status=1; }

# the float data types of a model's initializers, e.g. "FLOAT16"
weight_types() {
  /usr/bin/python3 -c '
import sys, onnx
from onnx import TensorProto
floats = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}
types = {t.data_type for t in onnx.load(sys.argv[1]).graph.initializer if t.data_type in floats and t.dims}
print(",".join(sorted(TensorProto.DataType.Name(t) for t in types)))' "$1"
}

check_written() { # TEACHER WRITTEN
  /usr/bin/python3 tools/check_onnx.py "$2" | grep -v '^ok' && fail "$2: ONNX checker"
  local want got
  want=$(weight_types "$1")
  got=$(weight_types "$2")
  [ "$want" = "$got" ] || fail "$2 stores its weights as $got; the teacher as $want"
}

for m in keras_tf2onnx fp16_torch fp16_weights segmenter detector keyword_spotting; do
  case $m in
    keras_tf2onnx) data=$dir/nhwc.npy ;;
    keyword_spotting) data=$dir/mfcc.npy ;;
    *) data=$dir/nchw.npy ;;
  esac
  echo "=== $m ($(weight_types "$dir/$m.onnx") weights)"
  if ! ./lrdkt compress "$dir/$m.onnx" --target-macs 0.5 -o "$dir/$m.lrd.onnx" > "$dir/$m.compress.log" 2>&1; then
    tail -1 "$dir/$m.compress.log"; fail "$m: compress"; continue
  fi
  tail -2 "$dir/$m.compress.log"
  check_written "$dir/$m.onnx" "$dir/$m.lrd.onnx"
  if ./lrdkt finetune --teacher "$dir/$m.onnx" --student "$dir/$m.lrd.onnx" --data "$data" --epochs 3 --batch 16 \
      --lr 0.005 -o "$dir/$m.ft.onnx" > "$dir/$m.finetune.log" 2>&1; then
    grep -E '^[0-9]|teacher held-out' "$dir/$m.finetune.log"
    check_written "$dir/$m.onnx" "$dir/$m.ft.onnx"
    ./lrdkt eval --model "$dir/$m.ft.onnx" --reference "$dir/$m.onnx" --data "$data" 2>&1 | grep -E 'agreement|cosine'
  else
    tail -1 "$dir/$m.finetune.log"; fail "$m: finetune"
  fi
  if ./lrdkt run "$dir/$m.onnx" --data "$data" --test-data "$data" --target-macs 0.5 --epochs 1 --batch 16 \
      --bench-runs 4 --bench-block 2 --bench-warmup 1 -o "$dir/$m.run.onnx" > "$dir/$m.run.log" 2>&1; then
    echo "run: ok"
    check_written "$dir/$m.onnx" "$dir/$m.run.onnx"
  else
    tail -1 "$dir/$m.run.log"; fail "$m: run"
  fi
done
[ $status = 0 ] && echo "all exports compressed, fine-tuned and ran, keeping their weights' types"
exit $status
