"""Writes the PyTorch-made safetensors fixtures that crates/nn/tests/serialize.rs reads.

    /work/venv/bin/python crates/nn/scripts/make_torch_mlp.py

Outputs (committed, so the tests need no Python):
  tests/fixtures/torch_mlp_20x16x4.safetensors     model.state_dict() of
      nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4)) after torch.manual_seed(0),
      written by safetensors.torch.save_file exactly as a user would (names 0.weight, 0.bias,
      2.weight, 2.bias; metadata {"format": "pt"}). The W1 MLP (784 -> 128 -> 10) has the same
      structure; this smaller one keeps the fixture at a few kilobytes.
  tests/fixtures/torch_mlp_20x16x4_io.safetensors  "input" [5, 20] and torch's "output" [5, 4] for it.

The reverse direction (a file written by neurite loads in PyTorch) was checked by hand:

    NEURITE_EXPORT=/tmp/neurite_mlp.safetensors \
        cargo test -p neurite-nn --test serialize export_for_pytorch -- --ignored
    /work/venv/bin/python crates/nn/scripts/make_torch_mlp.py --check /tmp/neurite_mlp.safetensors

`--check` builds the same nn.Sequential, runs
`model.load_state_dict(safetensors.torch.load_file(p))` (strict: every name and shape must
match) and compares torch's output on the file's inputs with the output neurite stored there.
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def build() -> nn.Sequential:
    return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4))


def make() -> None:
    torch.manual_seed(0)
    model = build()
    x = torch.randn(5, 20)
    with torch.no_grad():
        y = model(x)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), str(FIXTURES / "torch_mlp_20x16x4.safetensors"))
    save_file({"input": x.contiguous(), "output": y.contiguous()}, str(FIXTURES / "torch_mlp_20x16x4_io.safetensors"))
    print("wrote", FIXTURES / "torch_mlp_20x16x4.safetensors", "and torch_mlp_20x16x4_io.safetensors")


def check(path: str) -> None:
    tensors = load_file(path)
    x, expected = tensors.pop("input"), tensors.pop("output")
    model = build()
    model.load_state_dict(tensors)  # strict=True: missing or unexpected keys raise
    with torch.no_grad():
        y = model(x)
    err = (y - expected).abs().max().item()
    print(f"loaded {sorted(tensors)} from {path}; max |torch - neurite| = {err:.3g}")
    assert err < 1e-5, err


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        make()
