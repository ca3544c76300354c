"""tools/onnx_numpy.py — a tiny numpy evaluator for the ONNX ops that PyTorch exports of
LeNet-5 and the torchvision CNNs use (Conv, Relu, Clip, MaxPool, AveragePool,
GlobalAveragePool, Flatten/Reshape, Gemm, MatMul, Add, Identity, Constant, ...).

Why: onnxruntime's python package is not available on these machines and onnx 1.12
has no `onnx.reference`, so make_lenet.py and make_torchvision_models.py --verify check
their exports with this instead. Float64 internally; not fast, not general.
"""
import numpy as np
from onnx import numpy_helper


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        elif a.type == a.FLOAT:
            out[a.name] = a.f
        elif a.type == a.TENSOR:
            out[a.name] = numpy_helper.to_array(a.t)
        elif a.type == a.STRING:
            out[a.name] = a.s.decode()
    return out


def _pad_nchw(x, pads, value=0.0):
    # pads = [top, left, bottom, right] for 2-D
    t, l, b, r = pads
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=value)


def _windows(x, kh, kw, sh, sw, dh=1, dw=1):
    n, c, h, w = x.shape
    oh = (h - (kh - 1) * dh - 1) // sh + 1
    ow = (w - (kw - 1) * dw - 1) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, shape=(n, c, oh, ow, kh, kw),
        strides=(s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw))


def _conv(x, w, b, a):
    group = a.get("group", 1)
    kh, kw = w.shape[2:]
    strides = a.get("strides", [1, 1])
    dil = a.get("dilations", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise NotImplementedError("auto_pad " + a["auto_pad"])
    x = np.ascontiguousarray(_pad_nchw(x, [pads[0], pads[1], pads[2], pads[3]]))
    cin_g = x.shape[1] // group
    cout_g = w.shape[0] // group
    outs = []
    for g in range(group):
        xg = np.ascontiguousarray(x[:, g * cin_g:(g + 1) * cin_g])
        win = _windows(xg, kh, kw, strides[0], strides[1], dil[0], dil[1])
        wg = w[g * cout_g:(g + 1) * cout_g]
        outs.append(np.einsum("ncijkl,ockl->noij", win, wg, optimize=True))
    y = np.concatenate(outs, axis=1)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def _maxpool(x, a):
    kh, kw = a["kernel_shape"]
    strides = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("ceil_mode", 0):
        raise NotImplementedError("ceil_mode")
    x = np.ascontiguousarray(_pad_nchw(x, pads, -np.inf))
    return _windows(x, kh, kw, strides[0], strides[1]).max(axis=(4, 5))


def _avgpool(x, a):
    kh, kw = a["kernel_shape"]
    strides = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if a.get("ceil_mode", 0):
        raise NotImplementedError("ceil_mode")
    xp = np.ascontiguousarray(_pad_nchw(x, pads))
    s = _windows(xp, kh, kw, strides[0], strides[1]).sum(axis=(4, 5))
    if a.get("count_include_pad", 0) or not any(pads):
        return s / (kh * kw)
    ones = np.ascontiguousarray(_pad_nchw(np.ones((1, 1) + x.shape[2:]), pads))
    return s / _windows(ones, kh, kw, strides[0], strides[1]).sum(axis=(4, 5))


def run(model, feeds):
    """Evaluate `model` (onnx.ModelProto) on dict name->ndarray; returns dict of graph outputs."""
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           if numpy_helper.to_array(t).dtype.kind == "f" else numpy_helper.to_array(t)
           for t in model.graph.initializer}
    for k, v in feeds.items():
        env[k] = np.asarray(v, dtype=np.float64)
    for node in model.graph.node:
        a = _attrs(node)
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Conv":
            y = _conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif op == "Relu":
            y = np.maximum(i[0], 0)
        elif op == "MaxPool":
            y = _maxpool(i[0], a)
        elif op == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else a.get("min", -np.inf)
            hi = i[2] if len(i) > 2 and i[2] is not None else a.get("max", np.inf)
            y = np.clip(i[0], lo, hi)
        elif op == "AveragePool":
            y = _avgpool(i[0], a)
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Reshape":
            shape = [d if d != 0 else i[0].shape[k] for k, d in enumerate(i[1].astype(np.int64))]
            y = i[0].reshape(shape)
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = i[0] @ i[1]
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Identity":
            y = i[0]
        elif op == "Constant":
            y = a["value"]
        elif op == "Shape":
            y = np.array(i[0].shape, dtype=np.int64)
        elif op == "Gather":
            y = np.take(i[0], i[1].astype(np.int64), axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            y = np.expand_dims(i[0], tuple(i[1].astype(np.int64)))
        elif op == "Concat":
            y = np.concatenate(i, axis=a["axis"])
        else:
            raise NotImplementedError("op " + op + " (node " + node.name + ")")
        env[node.output[0]] = y
    return {o.name: env[o.name] for o in model.graph.output}
