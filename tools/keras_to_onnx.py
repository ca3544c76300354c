#!/usr/bin/env python3
"""Rebuilds a trained Keras functional model in PyTorch from tools/tfjs_layers_dump.js's dump and exports it to
ONNX the way a PyTorch user would (torch.onnx.export, NCHW input, opset 13).

Keras's layer list is replayed node by node: ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU,
Activation, Add, Concatenate, Max/AveragePooling2D, GlobalAveragePooling2D, Flatten, Dense and Dropout; anything
else is refused by name. TensorFlow's asymmetric 'same' padding becomes an explicit pad (a Pad node in the
export, as tf2onnx leaves them), Flatten keeps Keras's channels-last order. Before exporting, the rebuilt model's
output and its output layer's input on the dump's reference input must equal TensorFlow.js's within 1e-4 of their
largest value — the
conversion is checked against the framework the weights came from, not against itself.

Two variants look like other exports of the same trained weights:
  --layout nhwc   the input stays channels-last, transposed to NCHW inside the graph (as tf2onnx leaves a Keras model)
  --half-weights  every weight and bias stored in fp16 and Cast to float where it is used (a .half() model whose
                  layers cast their weights up); the check against TensorFlow.js runs before the weights are halved
  --dense-as-matmul  Dense layers as MatMul then Add (tf2onnx's form) instead of Gemm
Usage: /usr/bin/python3 tools/keras_to_onnx.py DUMP OUT.onnx [--layout nchw|nhwc] [--half-weights] [--dense-as-matmul]
       (DUMP.json and DUMP.bin from tfjs_layers_dump.js)
"""
import argparse
import json
import math
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

TOLERANCE = 1e-4


def weight(dump, values, layer, suffix):
    name = layer + "/" + suffix
    for w in dump["weights"]:
        if w["name"] == name:
            size = int(np.prod(w["shape"]))
            return torch.from_numpy(values[w["offset"]:w["offset"] + size].reshape(w["shape"]).copy())
    raise KeyError(f"weight {name} missing from the dump")


def same_padding(size, kernel, stride, dilation=1):
    """TensorFlow's 'same' padding for one axis: (before, after), the odd pixel after."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def activation(name):
    table = {"linear": lambda x: x, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
             "softmax": lambda x: torch.softmax(x, dim=1), "relu6": lambda x: torch.clamp(x, 0, 6)}
    if name not in table:
        raise ValueError(f"activation {name} is not supported")
    return table[name]


class KerasGraph(torch.nn.Module):
    """The Keras layer graph, replayed in NCHW; parameters live in modules so torch.onnx exports initialisers."""

    def __init__(self, dump, values, dense_as_matmul=False):
        super().__init__()
        self.dense_as_matmul = dense_as_matmul
        self.layers = dump["layers"]
        self.output_names = [o[0] for o in dump["outputLayers"]]
        self.params = torch.nn.ModuleDict()
        for layer in self.layers:
            module = self._module(dump, values, layer)
            if module is not None:
                self.params[layer["name"]] = module

    def _module(self, dump, values, layer):
        kind, cfg, name = layer["class_name"], layer["config"], layer["name"]
        if kind == "Conv2D":
            kernel = weight(dump, values, name, "kernel")  # [kh, kw, in, out]
            conv = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], tuple(kernel.shape[:2]),
                                   stride=tuple(cfg["strides"]), dilation=tuple(cfg["dilation_rate"]),
                                   bias=cfg["use_bias"])
            conv.weight.data = kernel.permute(3, 2, 0, 1).contiguous()
            if cfg["use_bias"]:
                conv.bias.data = weight(dump, values, name, "bias")
            return conv
        if kind == "DepthwiseConv2D":
            kernel = weight(dump, values, name, "depthwise_kernel")  # [kh, kw, in, multiplier]
            channels, multiplier = kernel.shape[2], kernel.shape[3]
            conv = torch.nn.Conv2d(channels, channels * multiplier, tuple(kernel.shape[:2]),
                                   stride=tuple(cfg["strides"]), dilation=tuple(cfg["dilation_rate"]),
                                   groups=channels, bias=cfg["use_bias"])
            conv.weight.data = kernel.permute(2, 3, 0, 1).reshape(channels * multiplier, 1,
                                                                  *kernel.shape[:2]).contiguous()
            if cfg["use_bias"]:
                conv.bias.data = weight(dump, values, name, "bias")
            return conv
        if kind == "BatchNormalization":
            if cfg["axis"] not in (-1, 3, [3], [-1]):
                raise ValueError(f"{name}: batch normalisation over axis {cfg['axis']} is not supported")
            mean = weight(dump, values, name, "moving_mean")
            bn = torch.nn.BatchNorm2d(mean.shape[0], eps=cfg["epsilon"])
            bn.running_mean.data = mean
            bn.running_var.data = weight(dump, values, name, "moving_variance")
            if cfg["scale"]:
                bn.weight.data = weight(dump, values, name, "gamma")
            if cfg["center"]:
                bn.bias.data = weight(dump, values, name, "beta")
            return bn
        if kind == "Dense":
            kernel = weight(dump, values, name, "kernel")  # [in, out]
            dense = torch.nn.Linear(kernel.shape[0], kernel.shape[1], bias=cfg["use_bias"])
            dense.weight.data = kernel.t().contiguous()
            if cfg["use_bias"]:
                dense.bias.data = weight(dump, values, name, "bias")
            return dense
        return None

    def _conv(self, layer, x):
        cfg, conv = layer["config"], self.params[layer["name"]]
        if cfg["padding"] == "same":
            pads = [same_padding(int(x.shape[2 + a]), conv.kernel_size[a], conv.stride[a], conv.dilation[a])
                    for a in range(2)]
            if all(before == after for before, after in pads):
                conv.padding = (pads[0][0], pads[1][0])
            else:
                x = F.pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
        return activation(cfg.get("activation", "linear"))(conv(x))

    def _pool(self, layer, x, kind):
        cfg = layer["config"]
        kernel, stride = tuple(cfg["pool_size"]), tuple(cfg["strides"] or cfg["pool_size"])
        padding = (0, 0)
        if cfg["padding"] == "same":
            pads = [same_padding(int(x.shape[2 + a]), kernel[a], stride[a]) for a in range(2)]
            if any(before != after for before, after in pads):
                raise ValueError(f"{layer['name']}: asymmetric 'same' pooling is not supported")
            padding = (pads[0][0], pads[1][0])
        if kind == "MaxPooling2D":
            return F.max_pool2d(x, kernel, stride, padding)
        return F.avg_pool2d(x, kernel, stride, padding, count_include_pad=False)  # Keras averages real pixels

    def _apply(self, layer, inputs):
        kind, cfg = layer["class_name"], layer["config"]
        x = inputs[0]
        if kind in ("Conv2D", "DepthwiseConv2D"):
            return self._conv(layer, x)
        if kind == "Dense" and self.dense_as_matmul:  # MatMul then Add, as tf2onnx converts Dense
            dense = self.params[layer["name"]]
            y = torch.matmul(x, dense.weight.t())
            return activation(cfg["activation"])(y + dense.bias if dense.bias is not None else y)
        if kind in ("BatchNormalization", "Dense"):
            y = self.params[layer["name"]](x)
            return activation(cfg.get("activation", "linear"))(y) if kind == "Dense" else y
        if kind == "ZeroPadding2D":
            (top, bottom), (left, right) = cfg["padding"]
            return F.pad(x, (left, right, top, bottom))
        if kind == "ReLU":
            if cfg.get("negative_slope", 0) or cfg.get("threshold", 0):
                raise ValueError(f"{layer['name']}: leaky or thresholded ReLU is not supported")
            return torch.clamp(x, 0, cfg["max_value"]) if cfg.get("max_value") is not None else F.relu(x)
        if kind == "Activation":
            return activation(cfg["activation"])(x)
        if kind == "Add":
            return sum(inputs[1:], inputs[0])
        if kind == "Concatenate":
            if cfg["axis"] not in (-1, 3):
                raise ValueError(f"{layer['name']}: concatenation over axis {cfg['axis']} is not supported")
            return torch.cat(inputs, dim=1)
        if kind in ("MaxPooling2D", "AveragePooling2D"):
            return self._pool(layer, x, kind)
        if kind == "GlobalAveragePooling2D":
            return x.mean(dim=(2, 3))
        if kind == "Flatten":  # Keras flattens channels-last
            return x.flatten(1) if int(x.shape[2]) * int(x.shape[3]) == 1 else x.permute(0, 2, 3, 1).flatten(1)
        if kind == "Dropout":
            return x
        raise ValueError(f"layer {layer['name']} ({kind}) is not supported")

    def forward(self, image):
        return self.run(image)[self.output_names[0]]

    def run(self, image):
        """Every layer's output, by layer name."""
        values = {}
        for layer in self.layers:
            if layer["class_name"] == "InputLayer":
                values[layer["name"]] = image
                continue
            nodes = layer["inbound_nodes"]
            if len(nodes) != 1:
                raise ValueError(f"layer {layer['name']} is shared; shared layers are not supported")
            values[layer["name"]] = self._apply(layer, [values[src[0]] for src in nodes[0]])
        return values


class ToFloat(torch.nn.Module):
    """A parametrisation: the stored tensor is fp16, the layer reads it as float (a Cast in the export)."""

    def forward(self, stored):
        return stored.float()


def halve_weights(model):
    for module in model.params.values():
        for name in ("weight", "bias"):
            if getattr(module, name, None) is not None:
                getattr(module, name).data = getattr(module, name).data.half()
                torch.nn.utils.parametrize.register_parametrization(module, name, ToFloat(), unsafe=True)


class ChannelsLast(torch.nn.Module):
    """Takes an NHWC image and hands the model NCHW: the Transpose tf2onnx puts at a Keras model's input."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model(image.permute(0, 3, 1, 2))


def main():
    parser = argparse.ArgumentParser(description="Rebuild a tfjs_layers_dump.js dump in PyTorch, export to ONNX")
    parser.add_argument("dump")
    parser.add_argument("out")
    parser.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw")
    parser.add_argument("--half-weights", action="store_true")
    parser.add_argument("--dense-as-matmul", action="store_true")
    args = parser.parse_args()
    dump_path, out = args.dump, args.out
    with open(dump_path + ".json") as f:
        dump = json.load(f)
    values = np.fromfile(dump_path + ".bin", dtype="<f4")
    if len(dump["outputLayers"]) != 1:
        sys.exit("keras_to_onnx: only single-output models are supported")
    model = KerasGraph(dump, values, args.dense_as_matmul).eval()

    ref = dump["reference"]
    n, h, w, c = ref["inputShape"]
    image = values[ref["inputOffset"]:ref["inputOffset"] + n * h * w * c].reshape(n, h, w, c)
    with torch.no_grad():
        image = torch.from_numpy(image.transpose(0, 3, 1, 2).copy())
        got = model.run(image)
    for layer, key in ((ref["featureLayer"], "feature"), (model.output_names[0], "output")):
        offset, size = ref[key + "Offset"], int(np.prod(ref[key + "Shape"]))
        expected = values[offset:offset + size]
        error = float(np.abs(got[layer].numpy().reshape(-1) - expected).max() / max(np.abs(expected).max(), 1e-12))
        print(f"keras_to_onnx: {layer} rebuilt vs TensorFlow.js: max abs difference {error:.2e} of its largest value")
        if not error <= TOLERANCE:
            sys.exit(f"keras_to_onnx: {layer} differs from TensorFlow.js by {error:.2e} (> {TOLERANCE})")

    if args.half_weights:
        halve_weights(model)
        with torch.no_grad():
            error = float((model(image) - got[model.output_names[0]]).abs().max())
        print(f"keras_to_onnx: fp16 weights change the output by up to {error:.2e}")
    exported, example = model, image[:1]
    if args.layout == "nhwc":
        exported, example = ChannelsLast(model), example.permute(0, 2, 3, 1).contiguous()

    # Shapes are read as Python ints on purpose: the export is for the reference input's fixed size.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message=".*(shape inference|Constant folding)")  # torch.onnx's own notes
    partial = out + ".part"  # written aside, renamed into place: no half-written model on failure
    torch.onnx.export(exported, example, partial, opset_version=13, input_names=["input"],
                      output_names=["probabilities"], dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}},
                      do_constant_folding=not args.half_weights)  # folding would turn Cast(fp16) into float weights
    os.replace(partial, out)
    shape = f"[N,{h},{w},{c}]" if args.layout == "nhwc" else f"[N,{c},{h},{w}]"
    print(f"keras_to_onnx: wrote {out} (input {shape} in [0,1]{', fp16 weights' if args.half_weights else ''})")


if __name__ == "__main__":
    main()
