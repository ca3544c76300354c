#!/usr/bin/env bash
# Compresses the torchvision VGG-16 export with the paper's LRDKT-0.7 ranks (DESIGN.md), checks the reported MACs
# against the paper's 2.43G (within 3%), records wall time and peak RSS, and times numpy's full SVD of the same
# unfoldings for comparison. Usage: tools/bench_vgg16_paper_ranks.sh [OUT_DIR]   (model: models/vgg16.onnx)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/lrdkt-vgg16-bench}"
mkdir -p "$out"
model="$root/models/vgg16.onnx"
[[ -f "$model" ]] || { echo "missing $model (run tools/make_torchvision_models.py)" >&2; exit 1; }

# conv1_1..conv5_3 and fc6..fc8 in the export's node order
/usr/bin/python3 - "$out/vgg16_paper_ranks.json" <<'PY'
import json, sys
convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
ranks = [3, 9, 15, 27, 40, 49, 63, 88, 123, 156, 171, 165, 162]
r = {f"/features/features.{i}/Conv": k for i, k in zip(convs, ranks)}
r.update({"/classifier/classifier.0/Gemm": 778, "/classifier/classifier.3/Gemm": 463,
          "/classifier/classifier.6/Gemm": 228})
json.dump(r, open(sys.argv[1], "w"), indent=1)
PY

"$root/lrdkt" --help >/dev/null 2>&1 || true  # build outside the timed run
/usr/bin/time -v "$root/lrdkt" compress "$model" -o "$out/vgg16_lrdkt07.onnx" --ranks "$out/vgg16_paper_ranks.json" \
  --report "$out/report.json" ${LRDKT_COMPRESS_FLAGS:-} >"$out/compress.txt" 2>"$out/time.txt"
tail -4 "$out/compress.txt"
grep -E "Elapsed \(wall|Maximum resident" "$out/time.txt"

/usr/bin/python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
macs = t["layerMacsAfter"]
paper = 2.43e9
dev = macs / paper - 1
print(f"MACs after {macs/1e9:.3f}G vs paper 2.43G: {100*dev:+.2f}%  params after {t['modelParamsAfter']/1e6:.2f}M "
      f"(paper 30.5M)  MACs before {t['layerMacsBefore']/1e9:.2f}G")
sys.exit(0 if abs(dev) <= 0.03 else 1)
PY

if [[ "${SKIP_NUMPY:-0}" != 1 ]]; then
timeout "${NUMPY_TIMEOUT:-3600}" /usr/bin/python3 - "$model" <<'PY'
# numpy/LAPACK full SVD (gesdd) of the same unfoldings lrdkt decomposes: spatial (C·kh)×(N·kw) and FC (out×in)
import sys, time, numpy as np, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
inits = {t.name: t for t in m.graph.initializer}
total = 0.0
for n in m.graph.node:
    if n.op_type not in ("Conv", "Gemm"):
        continue
    w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
    if w.ndim == 4:
        N, C, kh, kw = w.shape
        w = w.transpose(1, 2, 0, 3).reshape(C * kh, N * kw)
    t0 = time.perf_counter()
    np.linalg.svd(w, full_matrices=False)
    dt = time.perf_counter() - t0
    total += dt
    print(f"numpy svd {n.name} {w.shape}: {dt:.2f}s", flush=True)
print(f"numpy full SVD total: {total:.1f}s (numpy {np.__version__})")
PY
fi
