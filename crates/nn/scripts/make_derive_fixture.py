"""Writes the PyTorch-made fixture that crates/nn/tests/derive.rs loads into a
`#[derive(Module)]` struct (and into the same network built as a `Sequential` of `Residual`
blocks).

    /work/venv-torch/bin/python crates/nn/scripts/make_derive_fixture.py

Outputs (committed, so the test needs no Python):
  tests/fixtures/derive_resnet.safetensors     net.state_dict() of the small ResNet below,
      written by safetensors.torch.save_file (BatchNorm statistics set to non-trivial values,
      num_batches_tracked as int64, as PyTorch keeps it).
  tests/fixtures/derive_resnet_io.safetensors  "input" [2, 3, 8, 8] and "output" [2, 5]: the
      network in eval mode, evaluated in float64 from the float32 weights, rounded to float32.
"""

from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: conv-bn-relu-conv-bn plus the (projected) input, then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
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
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Net(nn.Module):
    """A stem, one block without and one with a projection, global pooling, a classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(4, 4))
        self.layer2 = nn.Sequential(BasicBlock(4, 8, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main() -> None:
    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(3)
    net.eval()
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    FIXTURES.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, FIXTURES / "derive_resnet.safetensors", {"format": "pt"})
    with torch.no_grad():
        y = net.double()(x.double()).float()
    save_file({"input": x, "output": y}, FIXTURES / "derive_resnet_io.safetensors")
    print(list(net.state_dict().keys()))
    print(net)


if __name__ == "__main__":
    main()
