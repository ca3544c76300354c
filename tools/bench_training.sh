#!/usr/bin/env bash
# Training throughput of LeNet-5 (batch 64, 2 threads): lrdkt's labels-only fine-tuning next to PyTorch's
# (tools/bench_pytorch_lenet.py), run alternately for several rounds so that both see the same machine load;
# prints each round, then medians and the lrdkt/PyTorch ratios. Usage:
#   tools/bench_training.sh [-r ROUNDS] [-e EPOCHS] [-w WARMUP_EPOCHS] [-s] [-b BASELINE_CHECKOUT] [-k STUDENT]
#                           [-m TEACHER [-n BATCH]] [-o OUT_DIR]
# lrdkt side: `lrdkt finetune` of LeNet-5 against itself on testdata/mnist with no teacher terms (soft weight 0,
# no hints), batch 64, constant lr: forward, cross-entropy, backward and SGD-momentum update, plus the batch
# assembly (with its random-shift augmentation), run through the checkout's own ./lrdkt launcher. Its per-epoch
# images/s (7,200 images, 112.5 steps) of epochs WARMUP+1..EPOCHS count (default 7..12): the JIT needs about
# 1,000 steps to reach full speed (ND4J's per-op Java code), and JVM start is never timed. PyTorch side: median
# of 3 × 100 steps after 30 warm-up steps. Both run twice per round: with their default OpenMP wait policy
# (`pytorch`: libgomp spins 300,000 times between ops, fastest on an idle machine, collapses under load; `lrdkt`:
# the launcher's short spin) and with OMP_WAIT_POLICY=PASSIVE (`pytorch_passive`, `lrdkt_passive`: sleep at once).
# -s adds each side under the other's default: `pytorch_spin3000` (GOMP_SPINCOUNT=3000, lrdkt's) and
# `lrdkt_spin300000` (GOMP_SPINCOUNT=300000, libgomp's and so PyTorch's), so that every policy has a like-for-like pair.
# -b adds another contestant: a built checkout of another commit (`mvn -q -DskipTests package` there) run
# through its own launcher, e.g. the commit before a change, so that before and after are measured in the same
# rounds.
# -k STUDENT measures full knowledge-transfer steps instead (no PyTorch): STUDENT (e.g. from `lrdkt compress
# testdata/lenet5.onnx --target-macs 0.25`) against LeNet-5 with `finetune`'s default flags (batch 32, soft
# targets, hints, cosine lr). Each lrdkt run's peak resident memory (whole process) is shown too.
# -m TEACHER with -k STUDENT: the KT step of an ImageNet-size pair (e.g. torchvision ResNet-50 and its `compress
# --energy 0.5` student) at the teacher's input size (224×224; Inception-v3 299×299), batch BATCH (default 8), lrdkt
# next to PyTorch on the same ONNX pair and optimizer
# (tools/bench_pytorch_kt.py: teacher forward, student forward/backward, soft-target loss, SGD): lrdkt's finetune
# with that loss alone (`--hints none`, no labels: the data are 44 seeded-noise images, 40 trained, 5 steps per
# epoch) and no augmentation; PyTorch's median of 3 × 5 steps after 3 warm-up steps. Peak RSS of both sides.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=5 epochs=12 warmup=6 swap="" base="" student="" teacher="$root/testdata/lenet5.onnx" imagenet="" batch=8
out=/tmp/lrdkt-bench-training
while getopts "r:e:w:sb:k:m:n:o:" opt; do
  case "$opt" in
    r) rounds="$OPTARG" ;;
    e) epochs="$OPTARG" ;;
    w) warmup="$OPTARG" ;;
    s) swap=1 ;;
    b) base="$(cd "$OPTARG" && pwd)" ;;
    k) student="$(realpath "$OPTARG")" ;;
    m) teacher="$(realpath "$OPTARG")" imagenet=1 ;;
    n) batch="$OPTARG" ;;
    o) out="$OPTARG" ;;
    *) echo "usage: $0 [-r ROUNDS] [-e EPOCHS] [-w WARMUP_EPOCHS] [-s] [-b BASELINE_CHECKOUT] [-k STUDENT]" \
            "[-m TEACHER [-n BATCH]] [-o OUT_DIR]" >&2
       exit 2 ;;
  esac
done
[[ -z "$imagenet" || -n "$student" ]] || { echo "$0: -m TEACHER needs -k STUDENT" >&2; exit 2; }
(( warmup >= 1 && epochs > warmup )) || { echo "$0: need 1 <= WARMUP_EPOCHS < EPOCHS" >&2; exit 2; }
mkdir -p "$out"
for checkout in "$root" ${base:+"$base"}; do "$checkout/lrdkt" --help >/dev/null 2>&1; done  # builds outside the timed runs
export OMP_NUM_THREADS=2
unset OMP_WAIT_POLICY GOMP_SPINCOUNT  # each contestant's own default unless named
data="$root/testdata/mnist"
if [[ -n "$imagenet" ]]; then
  data="$out/images.npy"
  # the teacher's declared input height (square inputs: 224 for ResNet/MobileNet, 299 for Inception-v3)
  size=$(/usr/bin/python3 -c "import onnx, sys
print(onnx.load(sys.argv[1], load_external_data=False).graph.input[0].type.tensor_type.shape.dim[2].dim_value)" \
    "$teacher")
  /usr/bin/python3 -c "import numpy, sys; numpy.save(sys.argv[1], numpy.random.default_rng(0).standard_normal(
    (44, 3, int(sys.argv[2]), int(sys.argv[2])), dtype=numpy.float32))" "$data" "$size"
  # PyTorch's optimizer (SGD, lr 1e-3, momentum 0.9, weight decay 5e-4, no schedule); the default lr 0.01 diverges
  # on these random-weight pairs
  job=(--student "$student" --epochs "$epochs" --batch "$batch" --hints none --shift 0 --rotate 0 --zoom 0
       --lr 0.001 --lr-schedule constant --warmup-epochs 0)
elif [[ -n "$student" ]]; then
  job=(--student "$student" --epochs "$epochs")
else
  # rotation and zoom off (PyTorch's side augments nothing; the shift is kept as in every earlier measurement); those
  # two flags exist from 8b089f9 on, so -b needs a checkout at least that new
  job=(--student "$root/testdata/lenet5.onnx" --epochs "$epochs" --batch 64 --soft-weight 0 --hints none --lr 0.001
       --lr-schedule constant --rotate 0 --zoom 0)
fi

lrdkt() { # label checkout round [OpenMP setting]
  # the launcher execs java, so tools/peak_rss.sh samples the JVM itself
  env ${4:+"$4"} LRDKT_JAVA_OPTS=-Xmx4g "$root/tools/peak_rss.sh" "$out/$1-$3.rss" "$2/lrdkt" finetune \
    --teacher "$teacher" --data "$data" \
    -o "$out/$1.onnx" "${job[@]}" --report "$out/$1-$3.json" >"$out/$1-$3.log" 2>&1 \
    || { echo "$0: $1 failed in round $3; see $out/$1-$3.log" >&2; exit 1; }
}
pytorch() { # label round [OpenMP setting]
  if [[ -n "$imagenet" ]]; then
    env ${3:+"$3"} "$root/tools/peak_rss.sh" "$out/$1-$2.rss" /usr/bin/python3 "$root/tools/bench_pytorch_kt.py" \
      "$teacher" "$student" --batch "$batch" --size "$size" --out "$out/$1-$2.json" >/dev/null
  else
    (cd "$root" && env ${3:+"$3"} /usr/bin/python3 tools/bench_pytorch_lenet.py --warmup 30 --reps 3 \
      --out "$out/$1-$2.json" >/dev/null)
  fi
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
if [[ -n "$imagenet" ]]; then contestants=(lrdkt pytorch ${base:+base})
elif [[ -n "$student" ]]; then contestants=(lrdkt ${base:+base})
else contestants=(pytorch pytorch_passive lrdkt lrdkt_passive ${swap:+pytorch_spin3000 lrdkt_spin300000} ${base:+base}); fi
for ((r = 1; r <= rounds; r++)); do
  echo "round $r: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  # rotate the order so that no contestant always runs first
  for ((i = 0; i < ${#contestants[@]}; i++)); do
    c="${contestants[$(( (i + r - 1) % ${#contestants[@]} ))]}"
    case "$c" in
      pytorch) pytorch pytorch "$r" ;;
      pytorch_passive) pytorch pytorch_passive "$r" OMP_WAIT_POLICY=PASSIVE ;;
      pytorch_spin3000) pytorch pytorch_spin3000 "$r" GOMP_SPINCOUNT=3000 ;;
      lrdkt) lrdkt lrdkt "$root" "$r" ;;
      lrdkt_passive) lrdkt lrdkt_passive "$root" "$r" OMP_WAIT_POLICY=PASSIVE ;;
      lrdkt_spin300000) lrdkt lrdkt_spin300000 "$root" "$r" GOMP_SPINCOUNT=300000 ;;
      base) lrdkt base "$base" "$r" ;;
    esac
  done
done

/usr/bin/python3 - "$out" "$rounds" "$epochs" "$warmup" "${imagenet:-0}" "${contestants[@]}" <<'PY'
import json, os, statistics, sys
out, rounds, epochs, warmup, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[6:]
kt_pair = sys.argv[5] == "1"

def value(name, r):
    if name.startswith("pytorch"):
        result = json.load(open(f"{out}/{name}-{r}.json"))
        return result.get("pytorch_kt_images_per_s", result.get("pytorch_train_images_per_s_b64_2threads"))
    history = json.load(open(f"{out}/{name}-{r}.json"))["history"]
    return statistics.median(e["imagesPerSecond"] for e in history[warmup:])

def rss(name, r):
    return int(open(f"{out}/{name}-{r}.rss").read().split()[-1]) / 1024

ratios = [("lrdkt", "pytorch"), ("lrdkt_passive", "pytorch_passive"), ("lrdkt", "pytorch_spin3000"),
          ("lrdkt_spin300000", "pytorch"), ("lrdkt", "base")]
ratios = [(a, b) for a, b in ratios if a in names and b in names]
rows = [{n: value(n, r) for n in names} for r in range(1, rounds + 1)]
measured = [n for n in names if not n.startswith("pytorch") or kt_pair]
peaks = [{n: rss(n, r) for n in measured} for r in range(1, rounds + 1)]
width = {n: max(8, len(n)) for n in names}
print("round  " + "  ".join(f"{n:>{width[n]}}" for n in names) + "".join(f"  {a}/{b:<7}" for a, b in ratios)
      + "".join(f"  {n} MiB" for n in peaks[0]))
def line(label, row, ratio_values, peak):
    return (f"{label:>6} " + "  ".join(f"{row[n]:>{width[n]}.{2 if row[n] < 100 else 0}f}" for n in names)
            + "".join(f"  {v:>{len(a) + len(b) + 1 + max(0, 7 - len(b))}.2f}" for v, (a, b) in zip(ratio_values, ratios)) + "".join(f"  {peak[n]:>9.0f}" for n in peak))
for i, (row, peak) in enumerate(zip(rows, peaks), 1):
    print(line(str(i), row, [row[a] / row[b] for a, b in ratios], peak))
print(line("median", {n: statistics.median(row[n] for row in rows) for n in names},
           [statistics.median(row[a] / row[b] for row in rows) for a, b in ratios],
           {n: statistics.median(p[n] for p in peaks) for n in peaks[0]}))
print(f"images/s; lrdkt = median of epochs {warmup + 1}..{epochs} per round"
      + (", PyTorch = median of 3 x 5 KT steps per round" if kt_pair and "pytorch" in names
         else ", PyTorch = median of 3 x 100 steps per round (*_passive: OMP_WAIT_POLICY=PASSIVE, *_spinN: GOMP_SPINCOUNT=N)"
         if "pytorch" in names else "")
      + "; ratios are per round, then their median; MiB = peak resident memory of the whole process")
PY
