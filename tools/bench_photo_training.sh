#!/usr/bin/env bash
# Fine-tuning from a folder of JPEG photos with --preset imagenet (random-resized crops and flips, decoded on
# background threads): is the step ever kept waiting for data, and does memory stay flat over the epoch?
# Student: torchvision ResNet-18 (random weights, models/resnet18.onnx or /work/models) compressed with
# `lrdkt compress --energy 0.5`, against the original, with finetune's default flags at batch 32, 2 OpenMP threads,
# 2 loader threads, through the launcher (-Xmx4g). Photos: tools/make_photo_folder.sh (real photographs, ~500x375
# JPEGs, six classes). Runs, one after the other, alternating order over ROUNDS rounds:
#   small: SMALL photos, 2 epochs;   large: LARGE photos, 1 epoch (same loader, 4x the folder);
#   sync:  SMALL photos, 1 epoch with --loader-threads 0 (decoding on the training thread: what the loader hides).
# Every run holds out the same 10% of SMALL photos (held-out scoring runs the models on all of them in one batch,
# so a larger held-out split alone would raise the peak). Per run: mean step and data-wait ms per batch of each
# epoch (finetune's --report), the wait as a share of the step, peak RSS of the whole process, and its resident
# memory sampled every 2 s (min/max over the second half of the run).
# Usage: tools/bench_photo_training.sh [-r ROUNDS] [-n SMALL] [-N LARGE] [-m MODEL] [-o OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=1 small=128 large=512 out=/tmp/lrdkt-bench-photo
model="$root/models/resnet18.onnx"; [[ -f "$model" ]] || model=/work/models/resnet18.onnx
while getopts "r:n:N:m:o:" opt; do
  case "$opt" in
    r) rounds="$OPTARG" ;;
    n) small="$OPTARG" ;;
    N) large="$OPTARG" ;;
    m) model="$(realpath "$OPTARG")" ;;
    o) out="$OPTARG" ;;
    *) echo "usage: $0 [-r ROUNDS] [-n SMALL] [-N LARGE] [-m MODEL] [-o OUT_DIR]" >&2; exit 2 ;;
  esac
done
[[ -f "$model" ]] || { echo "$0: no $model; make it with tools/make_torchvision_models.py" >&2; exit 2; }
mkdir -p "$out"
"$root/lrdkt" --help >/dev/null 2>&1  # builds outside the timed runs
export OMP_NUM_THREADS=2 LRDKT_JAVA_OPTS=-Xmx4g
student="$out/resnet18_energy05.onnx"
[[ -f "$student" ]] || "$root/lrdkt" compress "$model" --energy 0.5 -o "$student" >/dev/null
for n in "$small" "$large"; do
  [[ -d "$out/photos-$n" ]] || "$root/tools/make_photo_folder.sh" "$out/photos-$n" "$n" classes >/dev/null
done

held=$(( (small + 5) / 10 ))
job() { # label round photos epochs loader-threads
  local tag="$1-$2"
  /usr/bin/time -f %M -o "$out/$tag.rss" "$root/lrdkt" finetune --teacher "$model" --student "$student" \
    --data "$out/photos-$3" --preset imagenet --batch 32 --epochs "$4" --loader-threads "$5" \
    --val-fraction "$(awk -v h="$held" -v n="$3" 'BEGIN {print h / n}')" \
    -o "$out/$tag.onnx" --report "$out/$tag.json" >"$out/$tag.log" 2>&1 &
  local pid=$! t=0
  : >"$out/$tag.samples"
  while kill -0 "$pid" 2>/dev/null; do
    java_pid="$(pgrep -P "$pid" java || true)"
    [[ -n "$java_pid" ]] && echo "$t $(awk '/VmRSS/ {print $2}' "/proc/$java_pid/status" 2>/dev/null)" >>"$out/$tag.samples"
    sleep 2; t=$((t + 2))
  done
  wait "$pid"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
runs=(small large sync)
for ((r = 1; r <= rounds; r++)); do
  for ((i = 0; i < ${#runs[@]}; i++)); do
    c="${runs[$(( (i + r - 1) % ${#runs[@]} ))]}"
    echo "round $r: $c (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    case "$c" in
      small) job small "$r" "$small" 2 2 ;;
      large) job large "$r" "$large" 1 2 ;;
      sync) job sync "$r" "$small" 1 0 ;;
    esac
  done
done

/usr/bin/python3 - "$out" "$rounds" "$small" "$large" <<'PY'
import json, statistics, sys
out, rounds, small, large = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
photos = {"small": small, "large": large, "sync": small}
print(f"{'run':<6} {'round':>5} {'photos':>6} {'epoch':>5} {'step ms':>9} {'wait ms':>8} {'wait/step':>9} "
      f"{'images/s':>8} {'peak RSS MiB':>12} {'RSS, 2nd half of run, MiB':>26}")
shares = {}
for name in ("small", "large", "sync"):
    for r in range(1, rounds + 1):
        tag = f"{name}-{r}"
        history = json.load(open(f"{out}/{tag}.json"))["history"]
        peak = int(open(f"{out}/{tag}.rss").read().split()[-1]) / 1024
        samples = [l.split() for l in open(f"{out}/{tag}.samples") if len(l.split()) == 2]
        rss = [int(v) / 1024 for t, v in samples if int(t) >= int(samples[-1][0]) / 2] if samples else []
        span = f"{min(rss):.0f}-{max(rss):.0f}" if rss else "-"
        for e in history:
            share = e["loaderMillis"] / e["stepMillis"]
            shares.setdefault(name, []).append(share)
            print(f"{name:<6} {r:>5} {photos[name]:>6} {e['epoch']:>5} {e['stepMillis']:>9.0f} "
                  f"{e['loaderMillis']:>8.1f} {100 * share:>8.1f}% {e['imagesPerSecond']:>8.2f} {peak:>12.0f} {span:>26}")
for name, values in shares.items():
    print(f"median wait/step, {name}: {100 * statistics.median(values):.1f}%")
PY
