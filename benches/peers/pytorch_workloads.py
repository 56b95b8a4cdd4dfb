#!/usr/bin/env python3
"""The W1-W5 and W7 workloads of docs/benchmarks.md in PyTorch.

Run by `cargo xtask bench --compare pytorch`, one workload and one repeat per process call,
interleaved with neurite's runs. Prints one JSON object on stdout, e.g.
{"workload": "W1", "seconds": 0.57, "accuracy": 0.926, "version": "2.15.0"}.

Usage: pytorch_workloads.py WORKLOAD --data-dir DIR [--threads 2] [--epochs 1]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_mnist, main, time_sgemm  # noqa: E402


def models(torch):
    nn = torch.nn
    return {
        "W1": lambda: nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)),
        "W2": lambda: nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)),
        "W3": lambda: nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10)),
        "W4": lambda: nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(4096, 128), nn.ReLU(), nn.Linear(128, 10)),
    }


def accuracy(torch, model, x, y):
    with torch.no_grad():
        correct = 0
        for i in range(0, len(x), 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


def train_epochs(torch, model, opt, x, y, batch, epochs, seed):
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return times


def run(args):
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    w = args.workload
    if w == "W7":
        return time_sgemm(lambda a, b: torch.mm(a, b), lambda m, k: torch.rand(m, k))
    if w in ("W1", "W2", "W3", "W5"):
        xtr, ytr, xte, yte = load_mnist(args.data_dir)
        shape = (-1, 1, 28, 28) if w == "W3" else (-1, 784)
        xtr, xte = torch.from_numpy(xtr.reshape(shape)), torch.from_numpy(xte.reshape(shape))
        ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    model = models(torch)["W1" if w == "W5" else w]()
    if w == "W1":
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        times = train_epochs(torch, model, opt, xtr, ytr, 64, args.epochs, args.seed)
        return {"seconds": times[0], "epoch_seconds": times, "accuracy": accuracy(torch, model, xte, yte)}
    if w == "W2":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        times = train_epochs(torch, model, opt, xtr, ytr, 128, args.epochs, args.seed)
        return {"seconds": times[0], "epoch_seconds": times, "accuracy": accuracy(torch, model, xte, yte)}
    if w in ("W3", "W4"):
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()
        if w == "W4":
            gen = torch.Generator().manual_seed(args.seed)
            xs = torch.rand(64 * 8, 3, 32, 32, generator=gen)
            ys = torch.randint(0, 10, (64 * 8,), generator=gen)
            steps = 100
        else:
            xs, ys, steps = xtr, ytr, 200
        def step(i):
            j = (i * 64) % (len(xs) - 64)
            opt.zero_grad()
            loss = loss_fn(model(xs[j:j + 64]), ys[j:j + 64])
            loss.backward()
            opt.step()
        for i in range(5):
            step(i)
        start = time.perf_counter()
        for i in range(steps):
            step(i + 5)
        seconds = time.perf_counter() - start
        out = {"seconds": seconds, "images_per_second": steps * 64 / seconds}
        if w == "W3" and args.accuracy:
            model = models(torch)["W3"]()
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            train_epochs(torch, model, opt, xtr, ytr, 64, 1, args.seed)
            out["accuracy"] = accuracy(torch, model, xte, yte)
        return out
    if w == "W5":
        model.eval()
        best = float("inf")
        with torch.no_grad():
            for _ in range(3):
                start = time.perf_counter()
                for i in range(0, len(xte), 1000):
                    model(xte[i:i + 1000])
                best = min(best, time.perf_counter() - start)
        return {"seconds": best, "images_per_second": len(xte) / best}
    raise SystemExit(f"workload {w} has no PyTorch version (numpy_workloads.py runs W6)")


def run_with_version(args):
    import torch
    out = run(args)
    out["version"] = torch.__version__
    return out


if __name__ == "__main__":
    main(run_with_version, ["pytorch"], __doc__)
