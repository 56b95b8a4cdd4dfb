#!/usr/bin/env python3
"""Writes the committed seed corpora of the nn fuzz targets into fuzz/seeds/<target>/.

Run from crates/nn/fuzz: `python3 make_seeds.py`. Safetensors files are written by hand
(8-byte little-endian header length, JSON header, data) so no package is needed.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


# The fuzz target's model: Linear(2, 3), ReLU, Linear(3, 2).
mlp = [
    ("0.weight", "F32", [3, 2], f32([0.1, -0.2, 0.3, 0.4, -0.5, 0.6])),
    ("0.bias", "F32", [3], f32([0.0, 0.1, -0.1])),
    ("2.weight", "F32", [2, 3], f32([1.0, 0.5, -0.5, 0.25, 0.0, -1.0])),
    ("2.bias", "F32", [2], f32([0.5, -0.5])),
]
meta = {"format": "pt", "neurite.architecture": '{"model":"mlp","input":[2],"hidden":[3],"classes":2}'}
write("safetensors", "mlp", safetensors(mlp, meta))
write("safetensors", "mlp-no-metadata", safetensors(mlp))
f64 = [(n, "F64", s, b"".join(struct.pack("<d", v) for v in struct.unpack("<%df" % (len(r) // 4), r))) for n, d, s, r in mlp]
write("safetensors", "mlp-f64", safetensors(f64))
f16 = [(n, "F16", s, b"\x00\x3c" * (len(r) // 4)) for n, d, s, r in mlp]
write("safetensors", "mlp-f16", safetensors(f16))
bf16 = [(n, "BF16", s, b"\x80\x3f" * (len(r) // 4)) for n, d, s, r in mlp]
write("safetensors", "mlp-bf16", safetensors(bf16))
write("safetensors", "count-buffer", safetensors([("bn.num_batches_tracked", "I64", [], struct.pack("<q", 7))]))
write("safetensors", "nan", safetensors([("0.weight", "F32", [1], struct.pack("<f", float("nan")))]))
write("safetensors", "empty-tensor", safetensors([("0.weight", "F32", [0, 3], b"")]))
write("safetensors", "i32", safetensors([("x", "I32", [2], struct.pack("<ii", 1, 2))]))
write("safetensors", "truncated", safetensors(mlp, meta)[:-5])

# Model metadata: what ModelSpec::to_metadata writes, and near misses.
for name, text in [
    ("w1", '{"model":"mlp","input":[784],"hidden":[128],"classes":10}'),
    ("w2", '{"model":"mlp","input":[784],"hidden":[512,512],"classes":10}'),
    ("w3", '{"model":"cnn","input":[1,28,28],"classes":10}'),
    ("w4", '{"model":"cifar-cnn","input":[3,32,32],"classes":10}'),
    ("small-mlp", '{ "model": "mlp", "input": [4], "hidden": [3, 2], "classes": 2 }'),
    ("small-cnn", '{"model":"cnn","input":[1,8,8],"classes":3}'),
    ("no-hidden", '{"model":"mlp","input":[784],"classes":10}'),
    ("huge", '{"model":"mlp","input":[784],"hidden":[99999999999],"classes":10}'),
]:
    write("model_metadata", name, text)
