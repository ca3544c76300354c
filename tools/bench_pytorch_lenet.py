#!/usr/bin/python3
"""tools/bench_pytorch_lenet.py — measures PyTorch's LeNet-5 training throughput, the baseline
that lrdkt's own (ND4J/SameDiff) training speed is compared with in BENCHMARKS.md.

One train step = forward + cross-entropy + backward + SGD(momentum 0.9) update, batch 64,
float32, random 1x28x28 inputs, torch.set_num_threads(2) (override with --threads). Warm-up
steps first, then --reps timed repetitions of --steps steps each; prints one JSON object with
the median images/s (and min/max) — numbers are noisy on shared machines, so report the median.

Run from the repo root:  /usr/bin/python3 tools/bench_pytorch_lenet.py [--out FILE.json]
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_lenet import LeNet5  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=50, help="untimed steps first (default 50)")
    ap.add_argument("--steps", type=int, default=100, help="steps per timed repetition (default 100)")
    ap.add_argument("--reps", type=int, default=7, help="timed repetitions (default 7)")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = LeNet5().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    lossf = nn.CrossEntropyLoss()
    x = torch.rand(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        opt.zero_grad()
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    rates, step_ms = [], []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        dt = time.perf_counter() - t0
        rates.append(args.batch * args.steps / dt)
        step_ms.append(1000 * dt / args.steps)
    res = {
        "benchmark": "pytorch LeNet-5 train step (fwd+bwd+SGD momentum)",
        f"pytorch_train_images_per_s_b{args.batch}_{args.threads}threads": round(statistics.median(rates), 1),
        "images_per_s_min": round(min(rates), 1),
        "images_per_s_max": round(max(rates), 1),
        "median_step_ms": round(statistics.median(step_ms), 3),
        "batch": args.batch, "threads": args.threads, "warmup_steps": args.warmup,
        "steps_per_rep": args.steps, "reps": args.reps,
        "torch_version": torch.__version__, "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
    }
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
