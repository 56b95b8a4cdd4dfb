#!/usr/bin/env python3
"""The ONNX issue's "done means", end to end (docs/interop.md records a run):

1. neurite -> ONNX Runtime: trains W1 (mlp), W3 (cnn) and a small ResNet for one epoch on the
   embedded MNIST sample with the `neurite` binary, exports each (`neurite export --onnx`),
   checks it (`onnx.checker.check_model`), runs ONNX Runtime over the real MNIST test set and
   compares with neurite's own `eval` (accuracy) and `predict` (every image's class).
2. PyTorch -> neurite: trains a small CNN and a small ResNet in PyTorch for one epoch on the
   real MNIST training set, exports them with `torch.onnx.export`, imports them
   (`neurite import`) and compares neurite's `eval` accuracy and per-image `predict` classes
   with PyTorch's on the test set.

Run from the repository root after `cargo build -p neurite-cli` with a Python that has torch,
onnx and onnxruntime:

    python scripts/onnx_interop_check.py --mnist /work/shared/data/mnist

Exits 1 when any comparison differs.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
import onnxruntime as ort

RESNET = (
    "conv2d(8, 3, padding=1) batchnorm2d relu maxpool2d(2) "
    "residual(conv2d(8, 3, padding=1) batchnorm2d relu conv2d(8, 3, padding=1) batchnorm2d) relu "
    "residual(conv2d(16, 3, stride=2, padding=1) batchnorm2d relu conv2d(16, 3, padding=1) batchnorm2d "
    "| conv2d(16, 1, stride=2) batchnorm2d) relu globalavgpool2d linear(10)"
)


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


class Neurite:
    def __init__(self, binary, data_dir, work):
        self.binary, self.data_dir, self.work = binary, data_dir, work

    def run(self, *args, data=None):
        env = dict(os.environ, NEURITE_DATA_DIR=data or os.path.join(self.work, "no-data"))
        out = subprocess.run([self.binary, *args], env=env, capture_output=True, text=True, cwd=self.work)
        if out.returncode != 0:
            sys.exit(f"neurite {' '.join(args)}: {out.stderr}")
        return out.stdout

    def eval_accuracy(self, weights):
        out = self.run("eval", "--weights", weights, "--dataset", "mnist", "--json", data=self.data_dir)
        result = json.loads(out)
        assert not result["embedded_sample"] and result["samples"] == 10000, result
        return result["accuracy"]

    def predict(self, weights, pgms):
        classes = []
        # In chunks: one command line holds a few thousand paths.
        for start in range(0, len(pgms), 2000):
            out = self.run("predict", "--weights", weights, "--dataset", "mnist", *pgms[start : start + 2000])
            lines = [l for l in out.splitlines() if l.endswith(")") or ": " in l]
            for path, line in zip(pgms[start : start + 2000], lines):
                head = line.split(": ", 1)
                assert head[0].endswith(os.path.basename(path)), (path, line)
                classes.append(int(head[1].split()[0]))
        return np.array(classes)


def write_pgms(images, folder):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, img in enumerate(images):
        path = os.path.join(folder, f"{i:05d}.pgm")
        with open(path, "wb") as f:
            f.write(b"P5\n28 28\n255\n" + img.tobytes())
        paths.append(path)
    return paths


def ort_classes(model_path, x):
    onnx.checker.check_model(onnx.load(model_path), full_check=True)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    shape = [d for d in inp.shape[1:]]
    batch = x.reshape([len(x), *shape])
    (logits,) = session.run(None, {inp.name: batch})
    return inp.name, logits.argmax(1)


def torch_models():
    import torch
    import torch.nn as nn

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "crates", "nn", "scripts"))
    from make_onnx_fixtures import ResNet, cnn

    return torch, nn, [("torch-cnn", cnn(width=8)), ("torch-resnet", ResNet())]


def main():
    # torch.onnx.export(dynamo=False) says it is the legacy exporter; that is the one used.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", default="/work/shared/data/mnist")
    ap.add_argument("--neurite", default="target/debug/neurite")
    args = ap.parse_args()
    binary = os.path.abspath(args.neurite)
    test_x = idx(os.path.join(args.mnist, "t10k-images-idx3-ubyte.gz"))
    test_y = idx(os.path.join(args.mnist, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    x = (test_x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    failed = False
    with tempfile.TemporaryDirectory() as work:
        data_dir = os.path.join(work, "data")
        os.makedirs(os.path.join(data_dir, "mnist"))
        # neurite memory-maps the decompressed IDX files.
        for f in os.listdir(args.mnist):
            if f.endswith("-ubyte.gz"):
                with gzip.open(os.path.join(args.mnist, f)) as src, open(os.path.join(data_dir, "mnist", f[:-3]), "wb") as dst:
                    dst.write(src.read())
        neurite = Neurite(binary, data_dir, work)
        pgms = write_pgms(test_x, os.path.join(work, "pgm"))

        print("neurite -> ONNX Runtime (trained 1 epoch on the embedded sample; MNIST test set, 10,000 images)")
        for name, flags in [("mlp", ["--model", "mlp"]), ("cnn", ["--model", "cnn"]), ("resnet", ["--layers", RESNET])]:
            neurite.run("train", "--epochs", "1", "--optimizer", "adam", "--out", name, *flags)
            weights = os.path.join(name, "model.safetensors")
            model = os.path.join(work, f"{name}.onnx")
            neurite.run("export", "--onnx", model, "--weights", weights)
            input_name, ort_pred = ort_classes(model, x)
            ort_acc = float((ort_pred == test_y).mean())
            acc = neurite.eval_accuracy(weights)
            pred = neurite.predict(weights, pgms)
            same = int((pred == ort_pred).sum())
            ok = abs(acc - ort_acc) < 1e-12 and same == len(test_y)
            failed |= not ok
            print(f"  {name:7} neurite eval {acc:.4f}  ONNX Runtime {ort_acc:.4f}  per-image classes equal {same}/{len(test_y)}  {'ok' if ok else 'DIFFERENT'}")

        print("PyTorch -> neurite (trained 1 epoch on the MNIST training set; MNIST test set)")
        torch, nn, models = torch_models()
        torch.manual_seed(0)
        train_x = torch.from_numpy(idx(os.path.join(args.mnist, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0)
        train_x = train_x.reshape(-1, 1, 28, 28)
        train_y = torch.from_numpy(idx(os.path.join(args.mnist, "train-labels-idx1-ubyte.gz")).astype(np.int64))
        for name, model in models:
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            model.train()
            perm = torch.randperm(len(train_x))
            for start in range(0, len(train_x), 64):
                b = perm[start : start + 64]
                opt.zero_grad()
                nn.functional.cross_entropy(model(train_x[b]), train_y[b]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                torch_pred = model(torch.from_numpy(x)).argmax(1).numpy()
            torch_acc = float((torch_pred == test_y).mean())
            path = os.path.join(work, f"{name}.onnx")
            torch.onnx.export(
                model, (torch.from_numpy(x[:1]),), path, input_names=["input"], output_names=["logits"],
                opset_version=17, dynamo=False, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            )
            neurite.run("import", path, "--out", name, "--dataset", "mnist")
            weights = os.path.join(name, "model.safetensors")
            acc = neurite.eval_accuracy(weights)
            pred = neurite.predict(weights, pgms)
            same = int((pred == torch_pred).sum())
            ok = abs(acc - torch_acc) < 1e-12 and same == len(test_y)
            failed |= not ok
            print(f"  {name:12} PyTorch {torch_acc:.4f}  neurite eval {acc:.4f}  per-image classes equal {same}/{len(test_y)}  {'ok' if ok else 'DIFFERENT'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
