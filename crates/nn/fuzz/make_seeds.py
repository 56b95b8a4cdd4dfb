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

# ONNX: tiny graphs of the patterns the importer reads (PyTorch's and neurite's), written with
# the `onnx` package's helpers (skipped without it), plus near misses.
try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:
    print(f"skipping the onnx seeds: {e}")
else:

    def onnx_model(nodes, inits, in_shape, out_shape, opset=17):
        rng = np.random.default_rng(0)
        initializers = [
            numpy_helper.from_array(v if v.dtype != np.float32 or v.ndim == 0 else rng.standard_normal(v.shape).astype(np.float32), n)
            for n, v in inits.items()
        ]
        graph = helper.make_graph(
            nodes,
            "seed",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *in_shape])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", *out_shape])],
            initializers,
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()

    z = lambda *s: np.zeros(s, np.float32)  # noqa: E731 (shape only: values are drawn)
    n = helper.make_node
    write("onnx", "gemm-mlp", onnx_model(
        [n("Gemm", ["input", "w0", "b0"], ["h"], transB=1), n("Relu", ["h"], ["r"]),
         n("Gemm", ["r", "w1", "b1"], ["logits"], transB=1)],
        {"w0": z(3, 4), "b0": z(3), "w1": z(2, 3), "b1": z(2)}, [4], [2]))
    write("onnx", "matmul-add", onnx_model(
        [n("MatMul", ["input", "w"], ["m"]), n("Add", ["m", "b"], ["a"]), n("Softmax", ["a"], ["logits"], axis=-1)],
        {"w": z(4, 3), "b": z(3)}, [4], [3]))
    write("onnx", "cnn", onnx_model(
        [n("Conv", ["input", "cw", "cb"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
         n("BatchNormalization", ["c", "s", "bb", "m", "v"], ["bn"], epsilon=1e-5, momentum=0.9),
         n("LeakyRelu", ["bn"], ["r"], alpha=0.1),
         n("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         n("AveragePool", ["p"], ["q"], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 1, 1], count_include_pad=1),
         n("Flatten", ["q"], ["f"], axis=1), n("Gemm", ["f", "w", "b"], ["logits"], transB=1)],
        {"cw": z(2, 1, 3, 3), "cb": z(2), "s": np.ones(2, np.float32), "bb": z(2), "m": z(2), "v": np.ones(2, np.float32),
         "w": z(3, 18), "b": z(3)}, [1, 4, 4], [3]))
    write("onnx", "residual", onnx_model(
        [n("Conv", ["input", "w1"], ["a"], kernel_shape=[1, 1]), n("Relu", ["a"], ["r"]),
         n("Add", ["r", "input"], ["s"]),
         n("Conv", ["s", "w2"], ["d1"], kernel_shape=[1, 1], strides=[2, 2]),
         n("Conv", ["s", "w3"], ["d2"], kernel_shape=[1, 1], strides=[2, 2]),
         n("Add", ["d1", "d2"], ["t"]),
         n("GlobalAveragePool", ["t"], ["g"]), n("Reshape", ["g", "shape"], ["logits"])],
        {"w1": z(2, 2, 1, 1), "w2": z(3, 2, 1, 1), "w3": z(3, 2, 1, 1), "shape": np.array([-1, 3], np.int64)}, [2, 4, 4], [3]))
    write("onnx", "gelu-dropout-layernorm", onnx_model(
        [n("Constant", [], ["sqrt2"], value=numpy_helper.from_array(np.array(2 ** 0.5, np.float32))),
         n("Constant", [], ["one"], value=numpy_helper.from_array(np.array(1.0, np.float32))),
         n("Constant", [], ["half"], value=numpy_helper.from_array(np.array(0.5, np.float32))),
         n("Div", ["input", "sqrt2"], ["d"]), n("Erf", ["d"], ["e"]), n("Add", ["e", "one"], ["a"]),
         n("Mul", ["input", "a"], ["m"]), n("Mul", ["m", "half"], ["g"]),
         n("Dropout", ["g", "ratio"], ["dr"]),
         n("LayerNormalization", ["dr", "ls", "lb"], ["logits"], axis=-1, epsilon=1e-5)],
        {"ratio": np.array(0.25, np.float32), "ls": np.ones(4, np.float32), "lb": z(4)}, [4], [4]))
    write("onnx", "unsupported-op", onnx_model([n("Selu", ["input"], ["logits"])], {}, [4], [4]))
    write("onnx", "opset-9", onnx_model([n("Relu", ["input"], ["logits"])], {}, [4], [4], opset=9))
    full = onnx_model(
        [n("Gemm", ["input", "w0", "b0"], ["logits"], transB=1)], {"w0": z(3, 4), "b0": z(3)}, [4], [3])
    write("onnx", "truncated", full[: len(full) - 7])
