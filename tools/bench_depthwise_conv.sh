#!/usr/bin/env bash
# One training step (forward + backward, float, batch 8, 2 threads) of single MobileNet-v2 depthwise 3×3 layers in
# the training mirror (tools/BenchDepthwiseConv.java: 2 warm-up + 5 timed steps per run, median), for this checkout
# and optionally a baseline checkout (-b, built with `mvn -q -DskipTests package`), alternating which goes first,
# ROUNDS times; prints every run, then per layer the median over rounds of each checkout's median and the ratio.
# Usage: tools/bench_depthwise_conv.sh [-r ROUNDS] [-b BASELINE_CHECKOUT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=3 base=""
while getopts "r:b:" opt; do
  case "$opt" in
    r) rounds="$OPTARG" ;;
    b) base="$(cd "$OPTARG" && pwd)" ;;
    *) echo "usage: $0 [-r ROUNDS] [-b BASELINE_CHECKOUT]" >&2; exit 2 ;;
  esac
done
"$root/lrdkt" --help >/dev/null 2>&1  # builds this checkout outside the timed runs
export OMP_NUM_THREADS=2 GOMP_SPINCOUNT=3000  # the launcher's OpenMP setting
layers=("96 112 2" "144 56 1" "384 14 1" "960 7 1")  # channels, input size, stride (MobileNet-v2 at 224×224)
run() { # checkout channels size stride -> median ms
  java -Xss8m -Xmx6g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$1/target/lrdkt.jar:$(cat "$1/target/classpath.txt")" "$root/tools/BenchDepthwiseConv.java" 8 "$2" "$3" "$4" 2 5 \
    | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -A results
for ((r = 1; r <= rounds; r++)); do
  for layer in "${layers[@]}"; do
    order=(new ${base:+old}); ((r % 2 == 0)) && [[ -n "$base" ]] && order=(old new)
    for who in "${order[@]}"; do
      ms="$(run "$([[ $who == new ]] && echo "$root" || echo "$base")" $layer)"
      echo "round $r, layer [$layer], $who: $ms ms (load $(cut -d' ' -f1 /proc/loadavg))"
      results["$layer/$who"]+="$ms "
    done
  done
done
echo "layer (channels size stride) | this checkout, median ms | baseline, median ms | speed-up"
for layer in "${layers[@]}"; do
  new="$(tr ' ' '\n' <<<"${results[$layer/new]}" | grep . | median)"
  if [[ -n "$base" ]]; then
    old="$(tr ' ' '\n' <<<"${results[$layer/old]}" | grep . | median)"
    echo "$layer | $new | $old | $(awk -v a="$old" -v b="$new" 'BEGIN {printf "%.1fx", a / b}')"
  else
    echo "$layer | $new | - | -"
  fi
done
