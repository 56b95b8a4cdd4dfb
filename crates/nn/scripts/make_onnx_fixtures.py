#!/usr/bin/env python3
"""Writes the PyTorch-exported ONNX fixtures of neurite-nn's ONNX import tests.

Run from the repository root with a Python that has torch, onnx, onnxscript and safetensors:

    python crates/nn/scripts/make_onnx_fixtures.py

For each model (an nn.Sequential MLP, the W3-style CNN and a small ResNet with batch norm) it
writes into crates/nn/tests/fixtures/onnx/:

- NAME.onnx: `torch.onnx.export(..., dynamo=False)` (the TorchScript exporter), opset 17,
  dynamic batch axis; it folds batch norm into the convolutions before it;
- NAME_dynamo.onnx: the same model through the default (torch.export) exporter, which writes
  flatten as a Reshape and keeps BatchNormalization nodes;
- NAME.safetensors: `input` (a random batch) and `output` (PyTorch's float32 logits).

The weights are random (seeded), batch norm's running statistics moved off their defaults by
a few training-mode passes. The files are committed; the Rust tests need no Python.
"""

import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx")


class Block(nn.Module):
    """torchvision's BasicBlock, small."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + identity
        return self.relu(out)


class ResNet(nn.Module):
    """A two-block ResNet on 1x28x28 images."""

    def __init__(self, width=8, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(2)
        self.layer1 = Block(width, width)
        self.layer2 = Block(width, 2 * width, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 32),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(32, 16),
        nn.GELU(),
        nn.Linear(16, 10),
    )


def cnn(width=4):
    """W3's layers, narrower: conv 3x3, conv 3x3, maxpool 2, linear, linear."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3),
        nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * 12 * 12, 16),
        nn.ReLU(),
        nn.Linear(16, 10),
    )


def settle_batch_norm(model):
    """Random affine parameters and running statistics, so the fixtures check them."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(16, 1, 28, 28) * 2 + 0.5)
    model.eval()


def export(model, x, path, dynamo):
    if dynamo:
        torch.onnx.export(
            model,
            (x,),
            path,
            input_names=["input"],
            output_names=["logits"],
            opset_version=18,
            dynamo=True,
            external_data=False,
            dynamic_shapes=({0: torch.export.Dim("batch")},),
        )
    else:
        torch.onnx.export(
            model,
            (x,),
            path,
            input_names=["input"],
            output_names=["logits"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    for name, model in [("torch_mlp", mlp()), ("torch_cnn", cnn()), ("torch_resnet", ResNet())]:
        settle_batch_norm(model)
        x = torch.randn(4, 1, 28, 28)
        with torch.no_grad():
            y = model(x)
        for dynamo in (False, True):
            suffix = "_dynamo" if dynamo else ""
            export(model, x, os.path.join(OUT, f"{name}{suffix}.onnx"), dynamo)
        save_file({"input": x.contiguous(), "output": y.contiguous()}, os.path.join(OUT, f"{name}.safetensors"))
        print(name, tuple(y.shape))


if __name__ == "__main__":
    main()
