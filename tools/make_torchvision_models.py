#!/usr/bin/python3
"""tools/make_torchvision_models.py — exports torchvision 0.14 ImageNet architectures to ONNX
with *random initial weights* (fixed seed), for lrdkt's graph-handling, size and speed tests.

The weights are untrained (no pretrained weights are reachable here), so these models are
useless for accuracy but real in structure: VGG-16/AlexNet (large fc layers), ResNet-18/50,
MobileNet-v2 (depthwise convs, shared-bias Identity nodes in torch 1.13 exports).

Each export: input `input` float32 [batch,3,224,224] (traced with batch 1, batch axis dynamic),
output `logits` [batch,1000], opset 13, do_constant_folding=True, eval mode (batch norm folded
into the convs by the exporter). Written to a temp file, checked with onnx.checker, then renamed.

Usage (from the repo root):
  /usr/bin/python3 tools/make_torchvision_models.py [OUTDIR] [names...] [--force]
Default OUTDIR models/ (gitignored — vgg16.onnx is ~528 MiB: never commit these).
Default names: resnet18 resnet50 mobilenet_v2 vgg16 alexnet. Existing files are skipped
unless --force. --verify also compares each export's output (numpy re-implementation, batch 2)
with PyTorch's. Reruns give byte-identical files.

--bn-stats PHOTOS re-estimates every BatchNormalization's running mean and variance on a folder
of photos (torchvision's ImageNet evaluation transform, all of them, batches of 32) before the
export, so that each layer's activations are normalised as in a trained network. Without it the
running statistics stay at their initial mean 0, variance 1, which does not normalise: a random
MobileNet-v2's logits then come out around 1e-9 for any input (its depthwise convs are
initialised with kaiming fan_out over all channels, far too small for one input channel each, and
the activations shrink block after block), and a random ResNet-50's grow to tens and pick one or
two classes for every photo. Use another OUTDIR for these models: existing files are skipped.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torchvision
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_numpy  # noqa: E402

ALL = ["resnet18", "resnet50", "mobilenet_v2", "vgg16", "alexnet"]
SEED = 0


def verify(model, m):
    """numpy re-implementation of the ONNX graph vs PyTorch, batch 2 (checks the dynamic axis)."""
    torch.manual_seed(1)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        ref = model(x).numpy().astype(np.float64)
    got = onnx_numpy.run(m, {"input": x.numpy()})["logits"]
    assert got.shape == ref.shape, (got.shape, ref.shape)
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12))


def photo_batches(folder):
    """the photos of folder (sorted names), ImageNet evaluation transform, in batches of 32"""
    from PIL import Image
    t = torchvision.transforms
    transform = t.Compose([t.Resize(256), t.CenterCrop(224), t.ToTensor(),
                           t.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".jpeg", ".png")))
    if not files:
        raise SystemExit(f"make_torchvision_models: no photos in {folder}")
    for i in range(0, len(files), 32):
        yield torch.stack([transform(Image.open(os.path.join(folder, f)).convert("RGB"))
                           for f in files[i:i + 32]])


def estimate_bn_stats(model, folder):
    """BatchNorm running statistics as the cumulative mean over the photos (momentum None)"""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for x in photo_batches(folder):
            model(x)
    return model.eval()


def export(name, outdir, force, check, bn_stats):
    path = os.path.join(outdir, name + ".onnx")
    if os.path.exists(path) and not force:
        print(f"{name}: {path} exists, skipped (--force to redo)")
        return
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, name)(weights=None).eval()
    if bn_stats:
        estimate_bn_stats(model, bn_stats)
    t0 = time.perf_counter()
    tmp = path + ".tmp"
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), tmp, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13, do_constant_folding=True)
    export_s = time.perf_counter() - t0
    # path-based check works for models > 2 GB too; all of these are below that
    onnx.checker.check_model(tmp)
    m = onnx.load(tmp, load_external_data=False)
    extra = ""
    if check:
        t1 = time.perf_counter()
        rel = verify(model, m)
        extra = f", numpy check max|diff|/max|ref| {rel:.1e} ({time.perf_counter() - t1:.0f}s)"
        assert rel < 1e-4, f"{name}: ONNX output differs from PyTorch (relative {rel})"
    os.replace(tmp, path)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"{name}: {path} {os.path.getsize(path) / 2**20:.1f} MiB, {nparams:,} params, "
          f"{len(m.graph.node)} nodes, ir_version {m.ir_version}, opset "
          f"{m.opset_import[0].version}, export {export_s:.1f}s, total {time.perf_counter() - t0:.1f}s{extra}",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", default="models")
    ap.add_argument("names", nargs="*", help="any of " + " ".join(ALL) + " (default all)")
    ap.add_argument("--force", action="store_true", help="overwrite existing files")
    ap.add_argument("--verify", action="store_true",
                    help="also run each export in numpy (tools/onnx_numpy.py) on a batch of 2 and "
                         "compare with PyTorch (slow: about a minute for vgg16)")
    ap.add_argument("--bn-stats", metavar="PHOTOS",
                    help="re-estimate BatchNorm statistics on this folder of photos before export")
    args = ap.parse_args()
    names = args.names or ALL
    bad = [n for n in names if n not in ALL]
    if bad:
        print(f"make_torchvision_models: unknown model {bad[0]} (choose from {' '.join(ALL)})",
              file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(2)
    os.makedirs(args.outdir, exist_ok=True)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}")
    for n in names:
        export(n, args.outdir, args.force, args.verify, args.bn_stats)


if __name__ == "__main__":
    main()
