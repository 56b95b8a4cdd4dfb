#!/usr/bin/env python3
"""Generates the PyTorch reference values for neurite-nn's parity tests.

Run from the repository root with a Python that has torch and safetensors:

    python crates/nn/scripts/make_fixtures.py

It writes small safetensors files (saved with `safetensors.torch.save_file`, so they double as
"written by the safetensors Python tooling" fixtures) into crates/nn/tests/fixtures/. The files
are committed; the Rust tests need no Python.

Conventions: every backward pass is `(out * gy).sum().backward()` with a stored random `gy`
(for losses, the scalar loss itself is differentiated). Gradients are named `g<input>`.
"""

import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
torch.manual_seed(0)
torch.set_default_dtype(torch.float32)


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_()


def save(name, tensors, meta=None):
    tensors = {k: v.detach().contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(OUT, name), metadata=meta)


def backward(out):
    gy = torch.randn_like(out)
    (out * gy).sum().backward()
    return gy


def layers():
    t = {}
    # Linear: y = x W^T + b
    x, w, b = leaf(4, 5), leaf(3, 5), leaf(3)
    y = F.linear(x, w, b)
    gy = backward(y)
    t.update({"linear.x": x, "linear.weight": w, "linear.bias": b, "linear.y": y, "linear.gy": gy,
              "linear.gx": x.grad, "linear.gweight": w.grad, "linear.gbias": b.grad})
    # Dense (Keras): y = tanh(x K + b), kernel [in, units]
    x, k, b = leaf(4, 5), leaf(5, 3), leaf(3)
    y = torch.tanh(x @ k + b)
    gy = backward(y)
    t.update({"dense.x": x, "dense.kernel": k, "dense.bias": b, "dense.y": y, "dense.gy": gy,
              "dense.gx": x.grad, "dense.gkernel": k.grad, "dense.gbias": b.grad})
    # Conv2d cases: name -> (stride, padding, dilation, kernel)
    convs = {
        "conv_s1p0": ((1, 1), (0, 0), (1, 1), (3, 3)),
        "conv_s1p1": ((1, 1), (1, 1), (1, 1), (3, 3)),
        "conv_s2p0": ((2, 2), (0, 0), (1, 1), (3, 3)),
        "conv_s2p1": ((2, 2), (1, 1), (1, 1), (3, 3)),
        "conv_d2p1": ((1, 1), (1, 1), (2, 2), (3, 3)),
        "conv_rect": ((2, 1), (1, 0), (1, 2), (2, 3)),
    }
    for name, (s, p, d, k) in convs.items():
        x, w, b = leaf(2, 3, 7, 8), leaf(4, 3, *k), leaf(4)
        y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d)
        gy = backward(y)
        t.update({f"{name}.x": x, f"{name}.weight": w, f"{name}.bias": b, f"{name}.y": y, f"{name}.gy": gy,
                  f"{name}.gx": x.grad, f"{name}.gweight": w.grad, f"{name}.gbias": b.grad,
                  f"{name}.params": torch.tensor([*s, *p, *d], dtype=torch.float32)})
    # Pools: name -> (kernel, stride, padding)
    pools = {"k2s2p0": (2, 2, 0), "k3s2p1": (3, 2, 1), "k3s1p0": (3, 1, 0)}
    for kind, fn in (("maxpool", F.max_pool2d), ("avgpool", F.avg_pool2d)):
        for name, (k, s, p) in pools.items():
            x = leaf(2, 3, 7, 6)
            y = fn(x, k, s, p)
            gy = backward(y)
            t.update({f"{kind}_{name}.x": x, f"{kind}_{name}.y": y, f"{kind}_{name}.gy": gy,
                      f"{kind}_{name}.gx": x.grad,
                      f"{kind}_{name}.params": torch.tensor([k, s, p], dtype=torch.float32)})
    # BatchNorm2d, training then evaluation, with non-trivial affine and running stats.
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(3) + 0.5)
        bn.bias.copy_(torch.randn(3))
        bn.running_mean.copy_(torch.randn(3))
        bn.running_var.copy_(torch.rand(3) + 0.5)
    t.update({"bn.weight": bn.weight.clone(), "bn.bias": bn.bias.clone(),
              "bn.running_mean0": bn.running_mean.clone(), "bn.running_var0": bn.running_var.clone()})
    x = leaf(4, 3, 5, 5, scale=2.0)
    bn.train()
    y = bn(x)
    gy = backward(y)
    t.update({"bn.x": x, "bn.y_train": y, "bn.gy_train": gy, "bn.gx_train": x.grad,
              "bn.gweight_train": bn.weight.grad, "bn.gbias_train": bn.bias.grad,
              "bn.running_mean1": bn.running_mean.clone(), "bn.running_var1": bn.running_var.clone()})
    bn.eval()
    x.grad = None
    bn.weight.grad = None
    bn.bias.grad = None
    y = bn(x)
    gy = backward(y)
    t.update({"bn.y_eval": y, "bn.gy_eval": gy, "bn.gx_eval": x.grad,
              "bn.gweight_eval": bn.weight.grad, "bn.gbias_eval": bn.bias.grad})
    save("layers.safetensors", t, {"generator": "crates/nn/scripts/make_fixtures.py", "torch": torch.__version__})


def losses():
    t = {}
    logits0 = torch.randn(6, 5) * 3
    targets = torch.tensor([0, 4, 2, 2, 1, 3])
    t["ce.logits"] = logits0
    t["ce.targets"] = targets
    for name, red, ls in (("mean", "mean", 0.0), ("sum", "sum", 0.0), ("ls", "mean", 0.1), ("ls_sum", "sum", 0.2)):
        logits = logits0.clone().requires_grad_()
        loss = F.cross_entropy(logits, targets, reduction=red, label_smoothing=ls)
        loss.backward()
        t[f"ce_{name}.loss"] = loss.reshape(())
        t[f"ce_{name}.glogits"] = logits.grad
    pred, target = leaf(4, 3), torch.randn(4, 3)
    loss = F.mse_loss(pred, target)
    loss.backward()
    t.update({"mse.pred": pred, "mse.target": target, "mse.loss": loss, "mse.gpred": pred.grad})
    logits, target = leaf(4, 3, scale=4.0), torch.rand(4, 3)
    loss = F.binary_cross_entropy_with_logits(logits, target)
    loss.backward()
    t.update({"bce.logits": logits, "bce.target": target, "bce.loss": loss, "bce.glogits": logits.grad})
    save("losses.safetensors", t, {"generator": "crates/nn/scripts/make_fixtures.py", "torch": torch.__version__})


def optimizers():
    """One and three steps of each optimizer on p0 [2, 3]; at step k (1-based) the gradient is k * g."""
    p0, g = torch.randn(2, 3), torch.randn(2, 3)
    t = {"p0": p0, "g": g}
    configs = {
        "sgd_momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
        "sgd_nesterov_wd": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        "adam": (torch.optim.Adam, dict(lr=0.01)),
        "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.01)),
    }
    meta = {"generator": "crates/nn/scripts/make_fixtures.py", "torch": torch.__version__,
            "gradient": "at step k (1-based) the gradient is k * g"}
    for name, (cls, kw) in configs.items():
        p = p0.clone().requires_grad_()
        opt = cls([p], **kw)
        for k in range(1, 4):
            opt.zero_grad()
            p.grad = g * k
            opt.step()
            if k in (1, 3):
                t[f"{name}.step{k}"] = p.detach().clone()
        full = dict(kw)
        if cls is torch.optim.Adam or cls is torch.optim.AdamW:
            full.update(betas=[0.9, 0.999], eps=1e-8)
            if cls is torch.optim.Adam:
                full.setdefault("weight_decay", 0.0)
        meta[name] = json.dumps({"optimizer": cls.__name__, **full}, sort_keys=True)
    save("optim.safetensors", t, meta)


def models():
    """state_dict names and shapes of the W1-W4 models, and a tiny PyTorch MLP with its outputs."""
    def mlp(sizes):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    w3 = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10))
    w4 = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Flatten(), nn.Linear(4096, 128), nn.ReLU(), nn.Linear(128, 10))
    specs = {"mlp": mlp([784, 128, 10]), "mlp-wide": mlp([784, 512, 512, 10]), "cnn": w3, "cifar-cnn": w4}
    meta = {name: json.dumps([[k, list(v.shape)] for k, v in m.state_dict().items()]) for name, m in specs.items()}
    meta["generator"] = "crates/nn/scripts/make_fixtures.py"
    save("model_names.safetensors", {"unused": torch.zeros(1)}, meta)

    tiny = mlp([8, 6, 3])
    x = torch.rand(5, 8)
    with torch.no_grad():
        y = tiny(x)
    arch = json.dumps({"model": "mlp", "input": [8], "hidden": [6], "classes": 3}, separators=(",", ":"))
    save("torch_mlp.safetensors", dict(tiny.state_dict()),
         {"neurite.architecture": arch, "generator": "crates/nn/scripts/make_fixtures.py"})
    save("torch_mlp_io.safetensors", {"x": x, "y": y})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    layers()
    losses()
    optimizers()
    models()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote fixtures to {os.path.normpath(OUT)} ({total} bytes)")
