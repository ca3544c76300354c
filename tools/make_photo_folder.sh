#!/usr/bin/env bash
# A folder of real JPEG photos for benchmarks and manual tries, made offline from photographs that a Debian package
# ships: scikit-image's sample data (python3-skimage; fetched with `apt-get download` and unpacked with `dpkg -x`
# into a cache, nothing installed). The six photos used are public domain or CC0, as skimage/data/_fetchers.py says:
# astronaut.png (NASA, public domain), chelsea.png (Stefan van der Walt, CC0), coffee.png (Rachel Michetti, CC0),
# rocket.jpg (SpaceX, public domain), retina.jpg (Wikimedia Commons, CC0), hubble_deep_field.jpg (NASA, public
# domain). Each output is a random crop of one of them resized to a longer side of 500 px (tools/MakePhotoFolder.java).
# Usage: tools/make_photo_folder.sh OUT COUNT [classes|flat] [SEED]
#   classes (default): OUT/astronaut/*.jpg, OUT/chelsea/*.jpg, ... (6 classes, one per source photo)
#   flat: OUT/*.jpg, unlabelled
#   SEED (default 1) draws the crops: another seed gives other crops of the same six photos (a held-out set)
set -euo pipefail
usage="usage: $0 OUT COUNT [classes|flat] [SEED]"
out="${1:?$usage}" count="${2:?$usage}" layout="${3:-classes}" seed="${4:-1}"
[[ "$layout" == classes || "$layout" == flat ]] || { echo "layout must be classes or flat" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "SEED must be a whole number" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lrdkt/photos"
photos="$cache/selected"
if [[ ! -f "$photos/astronaut.png" ]]; then
  mkdir -p "$cache"
  (cd "$cache" && rm -f python3-skimage_*.deb && apt-get download python3-skimage >/dev/null)
  rm -rf "$cache/unpacked" && dpkg -x "$cache"/python3-skimage_*.deb "$cache/unpacked"
  data="$(find "$cache/unpacked" -type d -path '*/skimage/data' | head -1)"
  mkdir -p "$photos"
  for f in astronaut.png chelsea.png coffee.png rocket.jpg retina.jpg hubble_deep_field.jpg; do
    cp "$data/$f" "$photos/"
  done
  rm -rf "$cache/unpacked"
fi
java "$root/tools/MakePhotoFolder.java" "$photos" "$out" "$count" "$layout" 500 "$seed"
