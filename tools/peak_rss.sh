#!/usr/bin/env bash
# Runs a command and writes the peak resident memory of its process, in KiB, to FILE: the largest of VmRSS
# samples taken every 0.2 s and of the kernel's VmHWM read at each sample. /usr/bin/time's %M alone (the kernel's
# high-water mark when the process exits) can fall far short for a process that frees memory it touched: a JVM
# fine-tuning the PaddleOCR recogniser sampled at 6.3 GiB resident and exited with a high-water mark of 1.5 GiB.
# The command should exec its largest process (the lrdkt launcher execs java). Exit status: the command's.
# PEAK_RSS_LIMIT_KB, when set, stops the command once it is resident beyond that (a shared machine).
# Usage: tools/peak_rss.sh FILE COMMAND [ARGS...]
set -uo pipefail
file="${1:?usage: $0 FILE COMMAND [ARGS...]}"
shift
"$@" &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  while read -r key value _; do
    [[ "$key" == VmRSS: || "$key" == VmHWM: ]] && (( value > peak )) && peak=$value
  done 2>/dev/null < "/proc/$pid/status"
  if [[ -n "${PEAK_RSS_LIMIT_KB:-}" ]] && (( peak > PEAK_RSS_LIMIT_KB )); then
    echo "peak_rss: stopped at ${peak} KB resident (PEAK_RSS_LIMIT_KB ${PEAK_RSS_LIMIT_KB})" >&2
    kill "$pid"
  fi
  sleep 0.2
done
wait "$pid"
status=$?
echo "$peak" > "$file"
exit "$status"
