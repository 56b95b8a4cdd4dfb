#!/usr/bin/env python3
"""The W5 workload of docs/benchmarks.md (W1 model inference) in ONNX Runtime.

The W1 model (784 -> 128 -> ReLU -> 10) is built as an opset-17 ONNX graph (Gemm, Relu, Gemm)
with PyTorch-style uniform initial weights (speed does not depend on the values) and run by an
`InferenceSession` with `threads` intra-op threads and sequential execution, over the 10,000
MNIST test images in batches of 1000; best of 3.

Usage: onnxruntime_workloads.py W5 --data-dir DIR [--threads 2]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import best_of, load_mnist, main  # noqa: E402


def w1_model(seed):
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)

    def linear(name, fan_in, fan_out):
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, (fan_out,)).astype(np.float32)
        return [numpy_helper.from_array(w, f"{name}.weight"), numpy_helper.from_array(b, f"{name}.bias")]

    inits = linear("0", 784, 128) + linear("2", 128, 10)
    nodes = [
        helper.make_node("Gemm", ["input", "0.weight", "0.bias"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "2.weight", "2.bias"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "w1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 784])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def run(args):
    import onnxruntime as ort
    if args.workload != "W5":
        raise SystemExit(f"workload {args.workload} has no ONNX Runtime version (W5 only)")
    _, _, xte, _ = load_mnist(args.data_dir)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(w1_model(args.seed), opts, providers=["CPUExecutionProvider"])
    batches = [xte[i:i + 1000] for i in range(0, len(xte), 1000)]
    sess.run(None, {"input": batches[0]})

    def epoch():
        for b in batches:
            sess.run(None, {"input": b})

    best = best_of(3, epoch)
    return {"seconds": best, "images_per_second": len(xte) / best, "version": ort.__version__}


if __name__ == "__main__":
    main(run, ["onnxruntime"], __doc__)
