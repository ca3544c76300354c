#!/usr/bin/env bash
# ImageNet-size classifiers through the whole `lrdkt run` label-free: half their MACs (calibrated closed form),
# knowledge transfer on an unlabelled folder of JPEG photos (random-resized crops and flips), fidelity to the
# teacher on photos cut from other crops, ONNX Runtime latency at batch 1. Makes the photos
# (tools/make_photo_folder.sh) and the models first:
#   mobilenet_v2_nsfw, inception_v3_nsfw  trained (tools/fetch_nsfwjs.sh: nsfwjs's Keras classifiers rebuilt in
#                                         PyTorch and exported; 224x224 / 299x299 input in [0,1], 5 classes)
#   mobilenet_v2_nsfw_nhwc, _fp16         the same MobileNet-v2 exported channels-last / with fp16 weights
#   resnet50, mobilenet_v2                torchvision's, random initial weights (tools/make_torchvision_models.py;
#                                         no pretrained weights can be fetched offline), --preset imagenet
# Usage (from anywhere): tools/bench_imagenet_run.sh [OUT_DIR [MODEL...]]
#   (default /tmp/lrdkt-imagenet mobilenet_v2_nsfw inception_v3_nsfw)
# Environment: PHOTOS (training photos, default 320; 10% are held out to pick the epoch), EPOCHS (default 2),
# LR (default 0.001), MAX_RSS_GB (default 10: the run is stopped above it), LRDKT_JAVA_OPTS (default -Xmx4g),
# BN_STATS=1: the torchvision models' BatchNorm statistics re-estimated on the training photos (models/bnstats/;
# without it a random MobileNet-v2's logits are ~1e-9 for every photo, see tools/make_torchvision_models.py).
# Prints each run's summary table, the fidelity figures of report.json and the peak resident memory; report.json/
# report.html per model under OUT_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/lrdkt-imagenet}"
shift $(( $# > 0 ? 1 : 0 ))
(( $# > 0 )) || set -- mobilenet_v2_nsfw inception_v3_nsfw
which=("$@")
photos="${PHOTOS:-320}" epochs="${EPOCHS:-2}" lr="${LR:-0.001}" max_rss_kb=$(( ${MAX_RSS_GB:-10} * 1024 * 1024 ))
export LRDKT_JAVA_OPTS="${LRDKT_JAVA_OPTS:--Xmx4g}" OMP_NUM_THREADS=2
torchvision=() nsfwjs=()
for name in "${which[@]}"; do
  case "$name" in
    resnet50|mobilenet_v2) torchvision+=("$name") ;;
    mobilenet_v2_nsfw|mobilenet_v2_nsfw_nhwc|mobilenet_v2_nsfw_fp16|inception_v3_nsfw) nsfwjs+=("$name") ;;
    *) echo "$0: unknown model '$name' (mobilenet_v2_nsfw[_nhwc|_fp16], inception_v3_nsfw, resnet50," \
            "mobilenet_v2)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
[[ -d "$out/photos-$photos" ]] || "$root/tools/make_photo_folder.sh" "$out/photos-$photos" "$photos" flat 1 >/dev/null
[[ -d "$out/photos-test" ]] || "$root/tools/make_photo_folder.sh" "$out/photos-test" 64 flat 11 >/dev/null
models="$root/models" tag= bn_stats=()
if [[ "${BN_STATS:-0}" == 1 ]]; then
  models="$root/models/bnstats" tag=-bnstats bn_stats=(--bn-stats "$out/photos-$photos")
fi
if (( ${#torchvision[@]} > 0 )); then
  /usr/bin/python3 "$root/tools/make_torchvision_models.py" "$models" "${torchvision[@]}" "${bn_stats[@]}" >/dev/null
fi
(( ${#nsfwjs[@]} == 0 )) || "$root/tools/fetch_nsfwjs.sh" "$root/models/nsfwjs" >/dev/null

# Runs "$@", sampling its peak resident memory; stops it when that passes max_rss_kb (the machine is shared).
guarded() { # rss-file log-file command...
  local rss="$1" log="$2"; shift 2
  PEAK_RSS_LIMIT_KB="$max_rss_kb" "$root/tools/peak_rss.sh" "$rss" "$@" > "$log" 2>&1
}

for model in "${which[@]}"; do
  case "$model" in  # nsfwjs's models take the whole photo resized, scaled to [0,1]; torchvision's, ImageNet's
    mobilenet_v2_nsfw*) file="$root/models/nsfwjs/$model.onnx" name="$model" input=(--mean 0 --std 1 --resize 224x224) ;;
    inception_v3_nsfw) file="$root/models/nsfwjs/$model.onnx" name="$model" input=(--mean 0 --std 1 --resize 299x299) ;;
    *) file="$models/$model.onnx" name="$model$tag" input=() ;;
  esac
  [[ "$model" != *_nhwc ]] || input+=(--layout nhwc)
  echo "== $name ($photos photos, $epochs epochs, lr $lr)"
  guarded "$out/$name.rss" "$out/$name.log" "$root/lrdkt" run "$file" --data "$out/photos-$photos" \
    --test-data "$out/photos-test" --preset imagenet "${input[@]}" --target-macs 0.5 --calibration-samples 128 \
    --epochs "$epochs" --batch 8 --lr "$lr" --bench-runs 20 --bench-block 5 -o "$out/$name.onnx" \
    --report "$out/$name-report" || { tail -3 "$out/$name.log" >&2; exit 1; }
  sed -n '/^epoch  /,/^teacher held-out/p; /^model  /,/^speedup/p' "$out/$name.log"
  /usr/bin/python3 - "$out/$name-report/report.json" <<'EOF'
import json, sys
sections = json.load(open(sys.argv[1]))["sections"]
for student in ("closed form", "fine-tuned"):
    for f in sections[f"eval: student, {student}"]["fidelity"]:
        print(f"{student:12} {f['output']}: top-1 agreement {f['agreement']:.4f}, cosine {f['cosine']:.4f}, "
              f"rel. L2 {f['relativeL2']:.4f}")
bench = sections["bench"]
print("P50 ms " + ", ".join(f"{m['name']} {m['latencyMs']['p50']:.2f}" for m in bench["models"])
      + "; speedup " + ", ".join(f"{r['speedup']:.2f}x ({r['speedupRoundMin']:.2f}-{r['speedupRoundMax']:.2f})"
                                 for r in bench["ratios"]))
EOF
  echo "peak RSS $(( $(cat "$out/$name.rss") / 1024 )) MiB"
done
