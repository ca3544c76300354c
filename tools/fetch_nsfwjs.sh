#!/usr/bin/env bash
# tools/fetch_nsfwjs.sh — real, trained ImageNet-size CNNs for lrdkt's benchmarks, exported from PyTorch:
# the MobileNet-v2 (224x224) and Inception-v3 (299x299) classifiers the nsfwjs npm package ships (MIT licence;
# Keras models fine-tuned from ImageNet weights to 5 classes — drawing, hentai, neutral, porn, sexy — stored as
# TensorFlow.js layers models with uint8-quantised weights). No pretrained torchvision weights can be fetched
# offline; these are the trained full-size MobileNet-v2 and Inception-v3 the reachable registries hold.
# Each is read by TensorFlow.js in Node (tools/tfjs_layers_dump.js), rebuilt in PyTorch, checked against
# TensorFlow.js's own output and exported with torch.onnx.export (tools/keras_to_onnx.py): NCHW input in [0,1]
# (`--mean 0 --std 1`), a Pad before each strided convolution (Keras's asymmetric padding), softmax probabilities out.
# The MobileNet-v2 also comes as two other exports of the same weights: mobilenet_v2_nsfw_nhwc.onnx (channels-last
# input transposed inside and Dense layers as MatMul then Add, as tf2onnx leaves a Keras model) and mobilenet_v2_nsfw_fp16.onnx (fp16 weights, each
# Cast to float; exported without constant folding, so its pads are computed by Shape/Gather/Concat chains).
# Needs node/npm and PyTorch: run tools/setup-python.sh first. Large: never commit the models.
# Usage (from the repo root): tools/fetch_nsfwjs.sh [OUTDIR]   (default models/nsfwjs/); skips models present.
set -euo pipefail

NSFWJS=nsfwjs@4.3.0
TFJS=@tensorflow/tfjs@4.22.0
OUT="${1:-models/nsfwjs}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lrdkt/nsfwjs"
# output file: nsfwjs model [keras_to_onnx.py flags]
exports=("mobilenet_v2_nsfw:mobilenet_v2" "inception_v3_nsfw:inception_v3"
         "mobilenet_v2_nsfw_nhwc:mobilenet_v2:--layout nhwc --dense-as-matmul"
         "mobilenet_v2_nsfw_fp16:mobilenet_v2:--half-weights")

missing=()
for e in "${exports[@]}"; do [ -s "$OUT/${e%%:*}.onnx" ] || missing+=("$e"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "fetch_nsfwjs: all models already in $OUT/, skipped"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch_nsfwjs: npm not found (run tools/setup-python.sh)" >&2; exit 1; }
mkdir -p "$cache" "$OUT"
if [ ! -d "$cache/node_modules/@tensorflow/tfjs" ]; then
  (cd "$cache" && npm install --silent --no-save --no-package-lock "$TFJS" >/dev/null)
fi
if [ ! -d "$cache/package/dist/models" ]; then
  (cd "$cache" && rm -f nsfwjs-*.tgz && npm pack --silent "$NSFWJS" >/dev/null && tar xzf nsfwjs-*.tgz)
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for e in "${missing[@]}"; do
  IFS=: read -r name model flags <<< "$e"
  [ -s "$tmp/$model.json" ] || NODE_PATH="$cache/node_modules" node "$root/tools/tfjs_layers_dump.js" \
    "$cache/package/dist/models/$model" "$tmp/$model"
  # shellcheck disable=SC2086  # flags are words
  /usr/bin/python3 "$root/tools/keras_to_onnx.py" "$tmp/$model" "$OUT/$name.onnx" $flags
done
ls -l "$OUT" | awk 'NR>1 {printf "%12d  %s\n", $5, $9}'
