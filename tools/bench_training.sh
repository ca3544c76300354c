#!/usr/bin/env bash
# Training throughput of LeNet-5 (batch 64, 2 threads): lrdkt's labels-only fine-tuning next to PyTorch's
# (tools/bench_pytorch_lenet.py), run alternately for several rounds so that both see the same machine load;
# prints each round, then medians and the lrdkt/PyTorch ratio. Usage:
#   tools/bench_training.sh [-r ROUNDS] [-e EPOCHS] [-b BASELINE_CHECKOUT] [-o OUT_DIR]
# lrdkt side: `lrdkt finetune` of LeNet-5 against itself on testdata/mnist with no teacher terms (soft weight 0,
# no hints), batch 64, constant lr: forward, cross-entropy, backward and SGD-momentum update, plus the batch
# assembly (with its random-shift augmentation). Its per-epoch images/s (7,200 images, 112.5 steps) of epochs
# 2..EPOCHS count; epoch 1 warms the JIT up and JVM start is never timed. PyTorch side: median of 3 × 100 steps
# after 30 warm-up steps. -b adds a third contestant: a built checkout of another commit (`mvn -q -DskipTests
# package` there), e.g. the commit before a change, so that before and after are measured in the same rounds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=5 epochs=4 base="" out=/tmp/lrdkt-bench-training
while getopts "r:e:b:o:" opt; do
  case "$opt" in
    r) rounds="$OPTARG" ;;
    e) epochs="$OPTARG" ;;
    b) base="$(cd "$OPTARG" && pwd)" ;;
    o) out="$OPTARG" ;;
    *) echo "usage: $0 [-r ROUNDS] [-e EPOCHS] [-b BASELINE_CHECKOUT] [-o OUT_DIR]" >&2; exit 2 ;;
  esac
done
(( epochs >= 2 )) || { echo "$0: need at least 2 epochs (epoch 1 is warm-up)" >&2; exit 2; }
mkdir -p "$out"
"$root/lrdkt" --help >/dev/null 2>&1  # build outside the timed runs
export OMP_NUM_THREADS=2

lrdkt() { # label checkout round
  OMP_WAIT_POLICY=PASSIVE java -Xss8m -Xmx4g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$2/target/lrdkt.jar:$(cat "$2/target/classpath.txt")" org.lrdkt.cli.Main finetune \
    --teacher "$root/testdata/lenet5.onnx" --student "$root/testdata/lenet5.onnx" --data "$root/testdata/mnist" \
    -o "$out/$1.onnx" --epochs "$epochs" --batch 64 --soft-weight 0 --hints none --lr 0.001 \
    --lr-schedule constant --report "$out/$1-$3.json" >/dev/null 2>&1
}
pytorch() { # round
  (cd "$root" && /usr/bin/python3 tools/bench_pytorch_lenet.py --warmup 30 --reps 3 --out "$out/pytorch-$1.json" \
    >/dev/null)
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  # rotate the order so that no contestant always runs first
  contestants=(pytorch lrdkt ${base:+base})
  for ((i = 0; i < ${#contestants[@]}; i++)); do
    c="${contestants[$(( (i + r - 1) % ${#contestants[@]} ))]}"
    case "$c" in
      pytorch) pytorch "$r" ;;
      lrdkt) lrdkt lrdkt "$root" "$r" ;;
      base) lrdkt base "$base" "$r" ;;
    esac
  done
done

/usr/bin/python3 - "$out" "$rounds" "$epochs" "${base:+base}" <<'EOF'
import json, statistics, sys
out, rounds, epochs, with_base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "base"

def lrdkt(label, r):
    history = json.load(open(f"{out}/{label}-{r}.json"))["history"]
    return statistics.median(e["imagesPerSecond"] for e in history[1:])

rows = []
for r in range(1, rounds + 1):
    torch = json.load(open(f"{out}/pytorch-{r}.json"))["pytorch_train_images_per_s_b64_2threads"]
    row = {"pytorch": torch, "lrdkt": lrdkt("lrdkt", r)}
    if with_base:
        row["base"] = lrdkt("base", r)
    rows.append(row)
names = list(rows[0])
print("round  " + "  ".join(f"{n:>8}" for n in names) + "  lrdkt/pytorch" + ("  lrdkt/base" if with_base else ""))
for i, row in enumerate(rows, 1):
    line = f"{i:>5}  " + "  ".join(f"{row[n]:>8.0f}" for n in names) + f"  {row['lrdkt'] / row['pytorch']:>13.2f}"
    print(line + (f"  {row['lrdkt'] / row['base']:>10.2f}" if with_base else ""))
med = {n: statistics.median(row[n] for row in rows) for n in names}
ratio = statistics.median(row["lrdkt"] / row["pytorch"] for row in rows)
print("median " + "  ".join(f"{med[n]:>8.0f}" for n in names) + f"  {ratio:>13.2f}" + (
    f"  {statistics.median(row['lrdkt'] / row['base'] for row in rows):>10.2f}" if with_base else ""))
print(f"images/s, LeNet-5, batch 64, 2 threads; lrdkt = median of epochs 2..{epochs} per round, "
      "PyTorch = median of 3 x 100 steps per round; ratios are per round, then their median")
EOF
