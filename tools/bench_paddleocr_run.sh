#!/usr/bin/env bash
# PaddleOCR's text detector, recogniser and direction classifier (PP-OCRv3 / mobile v2.0, trained, Apache-2.0)
# through the whole `lrdkt run` label-free:
# compressed to half their MACs (calibrated closed form), fine-tuned for two epochs (the classifier ten) by knowledge transfer on
# unlabelled rendered text photos, evaluated for fidelity to the teacher on held-out photos, benchmarked in ONNX
# Runtime. Fetches the models (tools/fetch_paddleocr.sh) and renders the photos (tools/make_text_images.py) first.
# Usage (from anywhere): tools/bench_paddleocr_run.sh [OUT_DIR [det] [rec] [cls]]
#   (default /tmp/lrdkt-paddleocr det rec cls)
# Prints each run's summary table and peak resident memory; report.json/report.html per model under OUT_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/lrdkt-paddleocr}"
shift $(( $# > 0 ? 1 : 0 ))
if (( $# )); then which=("$@"); else which=(det rec cls); fi
models="$root/models/paddleocr"
mkdir -p "$out"
"$root/tools/fetch_paddleocr.sh" "$models" >/dev/null
text() { # kind folder count seed [make_text_images.py flags]
  [[ -d "$out/$2" ]] || /usr/bin/python3 "$root/tools/make_text_images.py" "$1" "$out/$2" -n "$3" --seed "$4" "${@:5}"
}
text det det 256 1; text det det-test 64 11
export OMP_NUM_THREADS=2
ocr_run() { # name model size epochs lr extra-flags...
  local name="$1" model="$2" size="$3" epochs="$4" lr="$5"; shift 5
  echo "== $name ($model, ${size} photos)"
  "$root/tools/peak_rss.sh" "$out/$name.rss" "$root/lrdkt" run "$models/$model" --data "$out/$name" \
    --test-data "$out/$name-test" --resize "$size" --target-macs 0.5 --calibration-samples 128 --epochs "$epochs" \
    --batch 8 --lr "$lr" --bench-runs 20 --bench-block 5 -o "$out/$name.onnx" --report "$out/$name-report" "$@" \
    > "$out/$name.log" 2>&1 || { tail -3 "$out/$name.log" >&2; exit 1; }
  sed -n '/^model  /,/^speedup/p' "$out/$name.log"
  echo "peak RSS $(( $(cat "$out/$name.rss") / 1024 )) MiB"
}
for name in "${which[@]}"; do
  case "$name" in
    det) ocr_run det ch_PP-OCRv3_det_infer.onnx 320x320 2 0.001 ;;
    # the recogniser's output is Softmax probabilities over 6,625 characters per position: transferred as such
    rec) text rec rec 512 2; text rec rec-test 128 12
         ocr_run rec ch_PP-OCRv3_rec_infer.onnx 48x320 2 0.001 --output-loss softmax ;;
    # the text-direction classifier (upright or turned by 180°) on 48x192 lines, half of them upside down; small
    # (16M MACs), its closed form falls to chance, so it trains longer and faster (2 epochs at 0.001 reached 59%)
    cls) text rec cls 256 3 --width 192 --upside-down 0.5; text rec cls-test 64 13 --width 192 --upside-down 0.5
         ocr_run cls ch_ppocr_mobile_v2.0_cls_infer.onnx 48x192 10 0.005 ;;
    *) echo "$0: unknown model '$name' (det, rec, cls)" >&2; exit 2 ;;
  esac
done
