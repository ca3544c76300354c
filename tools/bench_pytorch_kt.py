#!/usr/bin/python3
"""tools/bench_pytorch_kt.py — PyTorch's knowledge-transfer step on the same teacher/student ONNX pair that
`lrdkt finetune` trains, the baseline for lrdkt's KT step throughput at ImageNet sizes (issue #16).

Both ONNX graphs run as PyTorch modules through a small interpreter over their nodes (Conv, Gemm, Clip, Relu,
Add, MaxPool, GlobalAveragePool, Flatten, Identity, Constant: what torchvision's MobileNet-v2/ResNet exports and their
lrdkt-decomposed students contain; BatchNormalization with frozen statistics, Pad, Concat, AveragePool and Softmax
for tools/fetch_nsfwjs.sh's Keras-born MobileNet-v2 and Inception-v3). One step = teacher forward (no grad) + student forward + the soft-target
loss (temperature 5, weight 0.4 scaled by T², as `lrdkt finetune`'s defaults with no labels and no hints) +
backward + SGD (momentum 0.9, weight decay 5e-4). Random inputs of the model's input size, float32, 2 threads.
Warm-up steps first, then --reps timed repetitions of --steps steps; prints the median images/s as JSON.

Usage: /usr/bin/python3 tools/bench_pytorch_kt.py TEACHER.onnx STUDENT.onnx [--batch 8] [--out FILE.json]
"""
import argparse
import json
import statistics
import time

import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F


class OnnxModule(torch.nn.Module):
    """Runs an ONNX graph node by node; its float initializers become trainable parameters."""

    def __init__(self, path):
        super().__init__()
        graph = onnx.load(path).graph
        self.params = torch.nn.ParameterDict()
        self.names = {}
        self.constants = {}  # integer initializers (Pad's pads): not parameters
        for t in graph.initializer:
            array = torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
            if not array.is_floating_point():
                self.constants[t.name] = array
                continue
            self.names[t.name] = f"p{len(self.names)}"
            self.params[self.names[t.name]] = torch.nn.Parameter(array)
        self.nodes = list(graph.node)
        self.input = graph.input[0].name
        self.output = graph.output[0].name

    def forward(self, x):
        values = {self.input: x, **self.constants}
        for name, key in self.names.items():
            values[name] = self.params[key]
        for n in self.nodes:
            a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
            i = [values[name] if name else None for name in n.input]
            values[n.output[0]] = self.run(n.op_type, i, a)
        return values[self.output]

    @staticmethod
    def run(op, i, a):
        if op == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            x = i[0]
            if pads[0] != pads[2] or pads[1] != pads[3]:
                x, pads = F.pad(x, (pads[1], pads[3], pads[0], pads[2])), [0, 0, 0, 0]
            return F.conv2d(x, i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]), pads[:2],
                            a.get("dilations", [1, 1]), a.get("group", 1))
        if op == "Gemm":
            w = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (i[0] @ w)
            return y + a.get("beta", 1.0) * i[2] if len(i) > 2 else y
        if op == "Clip":
            return torch.clamp(i[0], float(i[1]) if i[1] is not None else None,
                               float(i[2]) if len(i) > 2 and i[2] is not None else None)
        if op == "Relu":
            return F.relu(i[0])
        if op == "Add":
            return i[0] + i[1]
        if op == "MaxPool":
            pads = a.get("pads", [0, 0, 0, 0])
            x = i[0]
            if pads[0] != pads[2] or pads[1] != pads[3]:
                x, pads = F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=float("-inf")), [0, 0, 0, 0]
            return F.max_pool2d(x, a["kernel_shape"], a.get("strides", a["kernel_shape"]), pads[:2],
                                a.get("dilations", [1, 1]), bool(a.get("ceil_mode", 0)))
        if op == "AveragePool":
            pads = a.get("pads", [0, 0, 0, 0])
            if pads[0] != pads[2] or pads[1] != pads[3]:
                raise ValueError("bench_pytorch_kt: asymmetric AveragePool pads")
            return F.avg_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]), pads[:2],
                                bool(a.get("ceil_mode", 0)), bool(a.get("count_include_pad", 0)))
        if op == "BatchNormalization":  # frozen statistics, trainable scale and bias, as lrdkt trains it
            return F.batch_norm(i[0], i[3].detach(), i[4].detach(), i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        if op == "Pad":
            pads = [int(p) for p in i[1].tolist()]
            half = len(pads) // 2
            torch_pads = [v for axis in reversed(range(half)) for v in (pads[axis], pads[axis + half])]
            value = float(i[2]) if len(i) > 2 and i[2] is not None else 0.0
            return F.pad(i[0], torch_pads, a.get("mode", b"constant").decode(), value)
        if op == "Concat":
            return torch.cat(i, dim=a["axis"])
        if op == "Softmax":
            return torch.softmax(i[0], dim=a.get("axis", -1))
        if op == "GlobalAveragePool":
            return i[0].mean(dim=(2, 3), keepdim=True)
        if op == "Flatten":
            return torch.flatten(i[0], a.get("axis", 1))
        if op == "Identity":
            return i[0]
        if op == "Constant":
            return torch.from_numpy(onnx.numpy_helper.to_array(a["value"]).copy())
        raise ValueError(f"bench_pytorch_kt: no PyTorch mapping for ONNX op {op}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("teacher")
    ap.add_argument("student")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    teacher = OnnxModule(args.teacher).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = OnnxModule(args.student).train()
    opt = torch.optim.SGD(student.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(args.batch, 3, args.size, args.size)
    temperature, soft_weight = 5.0, 0.4

    def step():
        with torch.no_grad():
            target = F.softmax(teacher(x) / temperature, dim=1)
        log_probs = F.log_softmax(student(x) / temperature, dim=1)
        loss = soft_weight * temperature ** 2 * -(target * log_probs).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    rates = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.batch * args.steps / (time.perf_counter() - start))
    result = {"pytorch_kt_images_per_s": statistics.median(rates), "min": min(rates), "max": max(rates),
              "batch": args.batch, "size": args.size, "threads": args.threads, "torch": torch.__version__}
    print(json.dumps(result))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
