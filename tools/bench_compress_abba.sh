#!/usr/bin/env bash
# Compress wall time and peak RSS of VGG-16 at the paper's LRDKT-0.7 ranks: this checkout against a baseline jar,
# in A B B A order so that both see the same machine load. Usage:
#   tools/bench_compress_abba.sh BASELINE_CHECKOUT [OUT_DIR]
# BASELINE_CHECKOUT is a built checkout of the commit to compare with (e.g. `git worktree add /tmp/base <commit>`,
# then `mvn -q -DskipTests package` there). Ranks file: written by tools/bench_vgg16_paper_ranks.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="$(cd "$1" && pwd)"
out="${2:-/tmp/lrdkt-compress-abba}"
mkdir -p "$out"
model="$root/models/vgg16.onnx"
ranks="$out/vgg16_paper_ranks.json"
[[ -f "$ranks" ]] || SKIP_NUMPY=1 "$root/tools/bench_vgg16_paper_ranks.sh" "$out" >/dev/null
"$root/lrdkt" --help >/dev/null 2>&1 || true  # build outside the timed runs
run() { # label checkout
  local jar="$2/target/lrdkt.jar"
  OMP_WAIT_POLICY=PASSIVE /usr/bin/time -v java -Xss8m -Xmx16g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$jar:$(cat "$2/target/classpath.txt")" org.lrdkt.cli.Main compress "$model" -o "$out/$1.onnx" \
    --ranks "$ranks" >/dev/null 2>"$out/$1.time"
  printf '%s\t%s\t%s kB\t(load %s)\n' "$1" "$(grep -oP 'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): \K.*' "$out/$1.time")" \
    "$(grep -oP 'Maximum resident set size \(kbytes\): \K.*' "$out/$1.time")" "$(cut -d' ' -f1 /proc/loadavg)"
}
run base1 "$base"; run new1 "$root"; run new2 "$root"; run base2 "$base"
