#!/usr/bin/env python3
"""Small ONNX models shaped like real-world exports, with random weights, and random input data for them.

The end-to-end check of the training mirror's op coverage (issue 14): each must `lrdkt compress` and then
`lrdkt finetune` on the data, or be refused in one line naming the op. Written into OUT_DIR:

  keras_tf2onnx.onnx   NHWC input, Transpose to NCHW, Conv, ReLU6 as Max/Min and as Clip, ZeroPadding2D as Pad in
                       front of a VALID strided Conv, DepthwiseConv2D (group Conv), Transpose back, Reshape,
                       MatMul + Add, Softmax (what tf2onnx makes of a small Keras CNN)
  fp16_torch.onnx      torch.onnx.export of a small CNN after .half(), or, where PyTorch cannot export half convs on
                       the CPU, the same CNN built as such exports look: fp16 initializers, Cast to fp16 at the
                       input, every op in fp16, Cast to float at the output
  fp16_weights.onnx    the other fp16 form: fp16 initializers each Cast to float in front of a float graph, exported by
                       torch.onnx.export (without constant folding, which would fold the Casts away) of the CNN
                       with half parameters that its layers cast to float; built as such exports look where PyTorch
                       is missing
  segmenter.onnx       Conv encoder (BatchNormalization, Relu, stride 2), ConvTranspose and Resize decoder with a
                       skip Concat, InstanceNormalization, Sigmoid mask [N,1,H,W]
  detector.onnx        backbone with LayerNormalization and an exported GELU chain (Erf), two heads: class logits
                       and box offsets plus an anchor grid Expanded to the batch by a Shape chain, GlobalMaxPool
                       objectness; three outputs
  keyword_spotting.onnx  a 1-D audio CNN as torch.onnx.export writes it (built as such where PyTorch is missing): MFCC
                       frames [N,40,49] through Conv1d+BatchNorm1d+ReLU blocks, MaxPool1d, AvgPool1d, global average
                       pooling and a 12-keyword Linear
  nhwc.npy, nchw.npy   64 random images, [64,32,32,3] and [64,3,32,32] float32 in [0, 1)
  mfcc.npy             64 random MFCC-like frames [64,40,49] float32, standard normal

Usage: /usr/bin/python3 tools/make_export_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(14)
OPSET = 17


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, name, *shape, fan_in=None, dtype=np.float32):
        fan_in = fan_in or int(np.prod(shape[1:])) or 1
        return self.init(name, (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype))

    def node(self, op, inputs, outputs=1, **attrs):
        self.count += 1
        names = [f"{op.lower()}_{self.count}" + (f"_{i}" if outputs > 1 else "") for i in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, names, name=f"/{op}_{self.count}", **attrs))
        return names[0] if outputs == 1 else names

    def conv(self, x, name, cin, cout, k=3, stride=1, dtype=np.float32, cast_weights=False, pad=None, group=1):
        w = self.weight(name + ".w", cout, cin // group, k, k, dtype=dtype)
        b = self.init(name + ".b", (rng.standard_normal(cout) * 0.1).astype(dtype))
        if cast_weights:
            w, b = (self.node("Cast", [t], to=TensorProto.FLOAT) for t in (w, b))
        return self.node("Conv", [x, w, b], kernel_shape=[k, k], strides=[stride, stride],
                         pads=[k // 2 if pad is None else pad] * 4, group=group)

    def bn_relu(self, x, name, channels):
        """Inference-form BatchNormalization with random running means, then Relu."""
        x = self.node("BatchNormalization", [x, self.init(name + ".g", np.ones(channels, np.float32)),
                                             self.init(name + ".beta", np.zeros(channels, np.float32)),
                                             self.init(name + ".mean",
                                                       (rng.standard_normal(channels) * 0.1).astype(np.float32)),
                                             self.init(name + ".var", np.ones(channels, np.float32))])
        return self.node("Relu", [x])

    def model(self, inputs, outputs, opset=OPSET):
        graph = helper.make_graph(self.nodes, "export", inputs, outputs, self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="lrdkt-tools")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def value(name, elem, *dims):
    return helper.make_tensor_value_info(name, elem, list(dims))


def keras_tf2onnx():
    g = Graph()
    x = g.node("Transpose", ["input_1"], perm=[0, 3, 1, 2])
    x = g.conv(x, "conv2d", 3, 16)
    x = g.node("Min", [g.node("Max", [x, g.init("zero", np.float32(0))]), g.init("six", np.float32(6))])
    x = g.node("Pad", [x, g.init("zero_padding2d", np.array([0, 0, 0, 0, 0, 0, 1, 1], np.int64))])
    x = g.conv(x, "conv2d_1", 16, 32, stride=2, pad=0)
    x = g.node("Clip", [x, "zero", "six"])
    x = g.node("Relu", [g.conv(x, "depthwise_conv2d", 32, 32, group=32)])
    x = g.conv(x, "conv2d_2", 32, 32, stride=2)
    x = g.node("Relu", [x])
    x = g.node("Transpose", [x], perm=[0, 2, 3, 1])  # Keras flattens NHWC
    x = g.node("Reshape", [x, g.init("flatten_shape", np.array([-1, 8 * 8 * 32], np.int64))])
    x = g.node("Add", [g.node("MatMul", [x, g.weight("dense.w", 8 * 8 * 32, 64, fan_in=2048)]),
                       g.init("dense.b", np.zeros(64, np.float32))])
    x = g.node("Relu", [x])
    x = g.node("Add", [g.node("MatMul", [x, g.weight("dense_1.w", 64, 10, fan_in=64)]),
                       g.init("dense_1.b", np.zeros(10, np.float32))])
    g.nodes.append(helper.make_node("Softmax", [x], ["dense_1"], name="/dense_1/Softmax", axis=-1))
    return g.model([value("input_1", TensorProto.FLOAT, "N", 32, 32, 3)],
                   [value("dense_1", TensorProto.FLOAT, "N", 10)], opset=13)


class SmallCnn:
    """The CNN of both fp16 forms (and of the torch export attempt)."""
    layers = [("conv1", 3, 16, 1), ("conv2", 16, 32, 2), ("conv3", 32, 32, 2)]


def torch_half_export(path):
    import torch
    from torch import nn

    model = nn.Sequential(*[m for name, cin, cout, s in SmallCnn.layers
                            for m in (nn.Conv2d(cin, cout, 3, s, 1), nn.ReLU())],
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)).half().eval()
    torch.onnx.export(model, torch.rand(1, 3, 32, 32).half(), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=13)


def torch_cast_weights_export(path):
    import torch
    import torch.nn.functional as F
    from torch import nn

    class HalfConv(nn.Conv2d):
        def forward(self, x):
            return F.conv2d(x, self.weight.float(), self.bias.float(), self.stride, self.padding)

    class HalfLinear(nn.Linear):
        def forward(self, x):
            return F.linear(x, self.weight.float(), self.bias.float())

    torch.manual_seed(14)
    model = nn.Sequential(*[m for name, cin, cout, s in SmallCnn.layers
                            for m in (HalfConv(cin, cout, 3, s, 1), nn.ReLU())],
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), HalfLinear(32, 10)).half().eval()
    torch.onnx.export(model, torch.rand(1, 3, 32, 32), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=13,
                      do_constant_folding=False)


def fp16_graph(cast_weights):
    """cast_weights: fp16 initializers Cast to float in front of a float graph; else a fully fp16 graph."""
    g = Graph()
    dtype = np.float16
    x = "input" if cast_weights else g.node("Cast", ["input"], to=TensorProto.FLOAT16)
    for name, cin, cout, stride in SmallCnn.layers:
        x = g.node("Relu", [g.conv(x, name, cin, cout, stride=stride, dtype=dtype, cast_weights=cast_weights)])
    x = g.node("Flatten", [g.node("GlobalAveragePool", [x])])
    w, b = g.weight("fc.w", 10, 32, dtype=dtype), g.init("fc.b", np.zeros(10, dtype))
    if cast_weights:
        w, b = (g.node("Cast", [t], to=TensorProto.FLOAT) for t in (w, b))
    x = g.node("Gemm", [x, w, b], transB=1)
    g.nodes.append(helper.make_node("Cast" if not cast_weights else "Identity", [x], ["logits"], name="/out",
                                    **({} if cast_weights else {"to": TensorProto.FLOAT})))
    return g.model([value("input", TensorProto.FLOAT, "N", 3, 32, 32)],
                   [value("logits", TensorProto.FLOAT, "N", 10)], opset=13)


def segmenter():
    g = Graph()
    def conv_bn_relu(x, name, cin, cout, stride):
        return g.bn_relu(g.conv(x, name, cin, cout, stride=stride), name, cout)
    e1 = conv_bn_relu("input", "enc1", 3, 16, 1)
    e2 = conv_bn_relu(e1, "enc2", 16, 32, 2)
    e3 = conv_bn_relu(e2, "enc3", 32, 32, 2)
    up = g.node("ConvTranspose", [e3, g.weight("up.w", 32, 16, 2, 2, fan_in=128), g.init("up.b", np.zeros(16, np.float32))],
                kernel_shape=[2, 2], strides=[2, 2])
    d2 = g.node("Concat", [up, e2], axis=1)
    d2 = g.node("Relu", [g.node("InstanceNormalization", [g.conv(d2, "dec2", 48, 16),
                                                          g.init("in.s", np.ones(16, np.float32)),
                                                          g.init("in.b", np.zeros(16, np.float32))])])
    d1 = g.node("Resize", [d2, "", g.init("scales", np.array([1, 1, 2, 2], np.float32))], mode="linear")
    d1 = g.node("Relu", [g.conv(g.node("Concat", [d1, e1], axis=1), "dec1", 32, 16)])
    logits = g.conv(d1, "head", 16, 1, k=1)
    g.nodes.append(helper.make_node("Sigmoid", [logits], ["mask"], name="/mask/Sigmoid"))
    return g.model([value("input", TensorProto.FLOAT, "N", 3, 32, 32)], [value("mask", TensorProto.FLOAT, "N", 1, 32, 32)])


def detector():
    g = Graph()
    x = g.node("Relu", [g.conv("input", "stem", 3, 16, stride=2)])
    x = g.conv(x, "stage", 16, 32, stride=2)  # [N, 32, 8, 8]
    x = g.node("LayerNormalization", [x, g.init("ln.s", np.ones(8, np.float32)), g.init("ln.b", np.zeros(8, np.float32))],
               axis=-1)
    # the exact GELU as PyTorch exports it before opset 20
    half = g.node("Mul", [x, g.init("half", np.float32(0.5))])
    erf = g.node("Erf", [g.node("Div", [x, g.init("root2", np.float32(np.sqrt(2)))])])
    x = g.node("Mul", [half, g.node("Add", [erf, g.init("one", np.float32(1))])])
    x = g.node("HardSwish", [g.conv(x, "neck", 32, 32)])
    cls = g.conv(x, "cls_head", 32, 3 * 4, k=1)
    g.nodes.append(helper.make_node("Identity", [cls], ["class_logits"], name="/cls/Identity"))
    box = g.conv(x, "box_head", 32, 4, k=1)
    batch = g.node("Unsqueeze", [g.node("Gather", [g.node("Shape", [box]), g.init("i0", np.int64(0))]),
                                 g.init("ax0", np.array([0], np.int64))])
    grid_shape = g.node("Concat", [batch, g.init("grid_rest", np.array([4, 8, 8], np.int64))], axis=0)
    grid = g.node("Expand", [g.init("anchors", rng.random((1, 4, 8, 8)).astype(np.float32)), grid_shape])
    g.nodes.append(helper.make_node("Add", [box, grid], ["boxes"], name="/boxes/Add"))
    obj = g.node("Flatten", [g.node("GlobalMaxPool", [cls])])
    g.nodes.append(helper.make_node("Sigmoid", [obj], ["objectness"], name="/objectness/Sigmoid"))
    return g.model([value("input", TensorProto.FLOAT, "N", 3, 32, 32)],
                   [value("class_logits", TensorProto.FLOAT, "N", 12, 8, 8),
                    value("boxes", TensorProto.FLOAT, "N", 4, 8, 8), value("objectness", TensorProto.FLOAT, "N", 12)])


def keyword_spotting_torch(path):
    import torch
    from torch import nn

    torch.manual_seed(14)

    def block(cin, cout, k, stride=1):
        return [nn.Conv1d(cin, cout, k, stride, k // 2), nn.BatchNorm1d(cout), nn.ReLU()]

    model = nn.Sequential(*block(40, 64, 5), nn.MaxPool1d(2), *block(64, 64, 3), *block(64, 96, 3, stride=2),
                          nn.AvgPool1d(2), *block(96, 96, 3), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                          nn.Linear(96, 12)).eval()
    for m in model.modules():  # trained-looking statistics rather than the initial 0/1
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    torch.onnx.export(model, torch.randn(1, 40, 49), path, input_names=["mfcc"], output_names=["keyword_logits"],
                      dynamic_axes={"mfcc": {0: "N"}, "keyword_logits": {0: "N"}}, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


def keyword_spotting_graph():
    g = Graph()

    def block(x, name, cin, cout, k, stride=1):
        w = g.weight(name + ".w", cout, cin, k)
        x = g.node("Conv", [x, w, g.init(name + ".b", np.zeros(cout, np.float32))], kernel_shape=[k], strides=[stride],
                   pads=[k // 2] * 2)
        return g.bn_relu(x, name, cout)
    x = block("mfcc", "conv1", 40, 64, 5)
    x = g.node("MaxPool", [x], kernel_shape=[2], strides=[2])
    x = block(block(x, "conv2", 64, 64, 3), "conv3", 64, 96, 3, stride=2)
    x = block(g.node("AveragePool", [x], kernel_shape=[2], strides=[2]), "conv4", 96, 96, 3)
    x = g.node("Flatten", [g.node("GlobalAveragePool", [x])])
    g.nodes.append(helper.make_node("Gemm", [x, g.weight("fc.w", 12, 96), g.init("fc.b", np.zeros(12, np.float32))],
                                    ["keyword_logits"], name="/fc/Gemm", transB=1))
    return g.model([value("mfcc", TensorProto.FLOAT, "N", 40, 49)], [value("keyword_logits", TensorProto.FLOAT, "N", 12)])


def torch_or_built(out, name, export, build):
    """The model as torch.onnx.export writes it, or where PyTorch is missing built as such exports look."""
    path = os.path.join(out, name)
    try:
        export(path)
        print(f"{name}: exported by torch.onnx.export")
    except ImportError as e:
        print(f"{name}: no PyTorch ({e}); built as such exports look")
        onnx.save(build(), path)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    onnx.save(keras_tf2onnx(), os.path.join(out, "keras_tf2onnx.onnx"))
    fp16 = os.path.join(out, "fp16_torch.onnx")
    try:
        torch_half_export(fp16)
        print("fp16_torch.onnx: exported by torch.onnx.export of a .half() model")
    except Exception as e:  # PyTorch 1.13 has no half-precision conv on the CPU
        print(f"fp16_torch.onnx: torch.onnx.export failed ({str(e).splitlines()[0]}); built as such exports look")
        onnx.save(fp16_graph(cast_weights=False), fp16)
    torch_or_built(out, "fp16_weights.onnx", torch_cast_weights_export, lambda: fp16_graph(cast_weights=True))
    onnx.save(segmenter(), os.path.join(out, "segmenter.onnx"))
    onnx.save(detector(), os.path.join(out, "detector.onnx"))
    torch_or_built(out, "keyword_spotting.onnx", keyword_spotting_torch, keyword_spotting_graph)
    images = rng.random((64, 3, 32, 32), dtype=np.float32)
    np.save(os.path.join(out, "nchw.npy"), images)
    np.save(os.path.join(out, "nhwc.npy"), np.ascontiguousarray(images.transpose(0, 2, 3, 1)))
    np.save(os.path.join(out, "mfcc.npy"), rng.standard_normal((64, 40, 49), dtype=np.float32))
    print("written to", out)


if __name__ == "__main__":
    main()
