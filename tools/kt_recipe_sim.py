#!/usr/bin/python3
"""tools/kt_recipe_sim.py — lrdkt's knowledge-transfer fine-tuning re-implemented in PyTorch, to compare training
recipes (epochs, augmentation, loss weights, warm-up) quickly and over several seeds before changing lrdkt's
defaults. It is how the defaults of `lrdkt finetune` were chosen (BENCHMARKS.md, "Recovering LeNet-5").

Same loss as lrdkt's train.KtLoss: hard CE + soft_weight·T²·CE(softmax(t/T), softmax(s/T)) + Σ hint_weight·½‖s−t‖²/‖t‖²,
SGD momentum 0.9, weight decay, half-cosine learning rate with optional linear warm-up (steps), 10% held out.
Runs any student made by `lrdkt compress` whose graph uses Conv/Relu/MaxPool/Flatten/Gemm (LeNet-5 students).
Prints t10k accuracy after every epoch and a final JSON line. Not bit-identical to lrdkt (different RNG streams and
zero-fill instead of edge-repeat at the borders), so compare recipes, not single digits.

    lrdkt compress testdata/lenet5.onnx --target-macs 0.25 -o /tmp/s25.onnx
    /usr/bin/python3 tools/kt_recipe_sim.py --student /tmp/s25.onnx --epochs 40 --rot 10 --scale 0.1 --warm 225
"""
import argparse, gzip, json, math, os, time
import numpy as np, onnx, torch, torch.nn.functional as F
from onnx import numpy_helper
torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--student", required=True, help="student ONNX made by lrdkt compress")
ap.add_argument("--teacher", default=ROOT + "/testdata/lenet5.onnx")
ap.add_argument("--epochs", type=int, default=20)
ap.add_argument("--lr", type=float, default=0.01)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--soft", type=float, default=0.4, help="λ_soft (the term carries T²)")
ap.add_argument("--T", type=float, default=5, help="temperature")
ap.add_argument("--hint", type=float, default=1.0, help="λ_hint of each relative hint error")
ap.add_argument("--hints", default=None, help="comma-separated tensor names, 'none', default: lrdkt.hints metadata")
ap.add_argument("--hard", type=float, default=1.0, help="weight of the label cross-entropy")
ap.add_argument("--wd", type=float, default=5e-4, help="weight decay")
ap.add_argument("--shift", type=int, default=2, help="random whole-pixel shift (px)")
ap.add_argument("--rot", type=float, default=0, help="random rotation (degrees)")
ap.add_argument("--scale", type=float, default=0, help="random zoom: factor in [1-s, 1+s]")
ap.add_argument("--mixup", type=float, default=0, help="mixup Beta(α, α) (0 = off)")
ap.add_argument("--val", type=float, default=0.1, help="held-out fraction")
ap.add_argument("--warm", type=int, default=0, help="linear warm-up steps (0 = off)")
ap.add_argument("--adam", action="store_true")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed)

def idx(p):
    b = gzip.open(p).read(); n = int.from_bytes(b[4:8], "big")
    return np.frombuffer(b, np.uint8, offset=16 if b[3] == 3 else 8)
D = ROOT + "/testdata/mnist/"
xtr = torch.tensor(idx(D+"train-images-idx3-ubyte.gz").reshape(-1,1,28,28)/255., dtype=torch.float32)
ytr = torch.tensor(idx(D+"train-labels-idx1-ubyte.gz").astype(np.int64))
xte = torch.tensor(idx(D+"t10k-images-idx3-ubyte.gz").reshape(-1,1,28,28)/255., dtype=torch.float32)
yte = torch.tensor(idx(D+"t10k-labels-idx1-ubyte.gz").astype(np.int64))

class Net(torch.nn.Module):
    def __init__(s, path, train):
        super().__init__(); m = onnx.load(path); s.g = m.graph
        s.p = torch.nn.ParameterDict()
        s.key = {}
        for i, t in enumerate(m.graph.initializer):
            s.key[t.name] = f"p{i}"; s.p[f"p{i}"] = torch.nn.Parameter(torch.tensor(numpy_helper.to_array(t).copy()), requires_grad=train)
        s.meta = {p.key: p.value for p in m.metadata_props}
    def forward(s, x):
        env = {s.g.input[0].name: x}
        get = lambda n: s.p[s.key[n]] if n in s.key else env[n]
        for n in s.g.node:
            at = {q.name: onnx.helper.get_attribute_value(q) for q in n.attribute}
            i = [get(k) for k in n.input]
            if n.op_type == "Conv":
                pd = at.get("pads", [0,0,0,0]); assert pd[0]==pd[2] and pd[1]==pd[3]
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=at.get("strides",1), padding=(pd[0],pd[1]), groups=at.get("group",1))
            elif n.op_type == "Relu": y = F.relu(i[0])
            elif n.op_type == "MaxPool": y = F.max_pool2d(i[0], at["kernel_shape"], at["strides"])
            elif n.op_type == "Flatten": y = i[0].flatten(1)
            elif n.op_type == "Gemm":
                w = i[1].t() if at.get("transB",0) else i[1]
                y = i[0] @ w + (i[2] if len(i) > 2 else 0)
            else: raise SystemExit(n.op_type)
            env[n.output[0]] = y
        s.env = env
        return y
T = Net(a.teacher, False).eval(); S = Net(a.student, True)
hints = json.loads(S.meta.get("lrdkt.hints","[]")) if a.hints is None else ([] if a.hints=="none" else a.hints.split(","))
order = rng.permutation(len(xtr)); held = int(round(len(xtr)*a.val)); va, tr = order[:held], order[held:]
def shift(x):
    if a.rot or a.scale:
        n = x.shape[0]; th = torch.tensor(rng.uniform(-a.rot, a.rot, n) * math.pi / 180, dtype=torch.float32)
        sc = torch.tensor(1 + rng.uniform(-a.scale, a.scale, n), dtype=torch.float32)
        t = torch.tensor(rng.integers(-a.shift, a.shift + 1, (n, 2)) * 2 / 28, dtype=torch.float32)
        A = torch.stack([torch.stack([torch.cos(th)/sc, -torch.sin(th)/sc, t[:,0]], 1), torch.stack([torch.sin(th)/sc, torch.cos(th)/sc, t[:,1]], 1)], 1)
        return F.grid_sample(x, F.affine_grid(A, x.shape, align_corners=False), align_corners=False)
    if a.shift == 0: return x
    n = x.shape[0]; out = torch.empty_like(x)
    dy = rng.integers(-a.shift, a.shift+1, n); dx = rng.integers(-a.shift, a.shift+1, n)
    r = torch.arange(28)
    for k in range(n):
        ys = (r + int(dy[k])).clamp(0,27); xs = (r + int(dx[k])).clamp(0,27)
        out[k] = x[k][:, ys][:, :, xs]
    return out
def acc(net, x, y):
    with torch.no_grad(): return (net(x).argmax(1) == y).float().mean().item()
params = [p for p in S.parameters() if p.requires_grad]
opt = torch.optim.Adam(params, lr=a.lr) if a.adam else torch.optim.SGD(params, lr=a.lr, momentum=0.9, weight_decay=a.wd)
steps = a.epochs * math.ceil(len(tr)/a.batch); k = 0
best = (acc(S, xtr[va], ytr[va]) if held else 0, 0, None); t0 = time.time()
for ep in range(1, a.epochs+1):
    o = tr[rng.permutation(len(tr))]
    for f in range(0, len(o), a.batch):
        b = o[f:f+a.batch]; x = shift(xtr[b]); y = ytr[b]
        lam = None
        if a.mixup > 0:
            lam = float(rng.beta(a.mixup, a.mixup)); perm = torch.randperm(len(b)); x = lam*x + (1-lam)*x[perm]
        lr = a.lr * (min(1, (k+1)/a.warm) if a.warm else 1) * 0.5*(1+math.cos(math.pi*k/steps)); k += 1
        for g in opt.param_groups: g["lr"] = lr
        with torch.no_grad(): tl = T(x); te = dict(T.env)
        sl = S(x)
        if lam is None: loss = a.hard * F.cross_entropy(sl, y)
        else: loss = a.hard * (lam*F.cross_entropy(sl, y) + (1-lam)*F.cross_entropy(sl, y[perm]))
        if a.soft: loss = loss + a.soft*a.T*a.T*(-(F.softmax(tl/a.T,1)*F.log_softmax(sl/a.T,1)).sum(1).mean())
        for h in hints: loss = loss + a.hint*0.5*((S.env[h]-te[h])**2).sum()/(te[h]**2).sum()
        opt.zero_grad(); loss.backward(); opt.step()
    v = acc(S, xtr[va], ytr[va]) if held else acc(S, xtr[tr], ytr[tr])
    tacc = acc(S, xte, yte)
    if v > best[0]: best = (v, ep, tacc)
    print(f"ep {ep} loss {loss.item():.3f} val {v:.4f} t10k {tacc:.4f} {time.time()-t0:.0f}s", flush=True)
print(json.dumps({"args": vars(a), "final_t10k": tacc, "best_epoch": best[1], "best_t10k": best[2]}))
