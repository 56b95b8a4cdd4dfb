"""Checks ONNX files written by neurite: `onnx.checker.check_model` (full check, with shape
inference), then ONNX Runtime on a stored input, compared with neurite's output. Used by the
test in crates/nn/tests/onnx.rs.

    python check_onnx.py CASE.json...

Each CASE.json is {"model": "file.onnx", "input": {"shape": [...], "data": [...]},
"output": {"shape": [...], "data": [...]}, "tolerance": 1e-5}. Prints one JSON line per case:
{"model": ..., "max_abs_diff": ...}; exits 1 when a check fails.

Exit code 3 (and a message) when `onnx` or `onnxruntime` is not installed: the test then
skips. Install them with `/work/venv/bin/pip install onnx onnxruntime` and run the tests with
NEURITE_PYTHON=/work/venv/bin/python.
"""

import json
import sys

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
except ImportError as e:
    print(f"the onnx and onnxruntime packages are needed ({e})", file=sys.stderr)
    sys.exit(3)


def main():
    if len(sys.argv) < 2:
        print("usage: check_onnx.py CASE.json...", file=sys.stderr)
        sys.exit(2)
    failed = False
    for path in sys.argv[1:]:
        with open(path) as f:
            case = json.load(f)
        model = onnx.load(case["model"])
        onnx.checker.check_model(model, full_check=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(case["model"], options, providers=["CPUExecutionProvider"])
        (inp,) = session.get_inputs()
        (out,) = session.get_outputs()
        x = np.asarray(case["input"]["data"], dtype=np.float32).reshape(case["input"]["shape"])
        want = np.asarray(case["output"]["data"], dtype=np.float32).reshape(case["output"]["shape"])
        (got,) = session.run([out.name], {inp.name: x})
        diff = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("inf")
        print(json.dumps({"model": case["model"], "input": inp.name, "output": out.name, "max_abs_diff": diff}))
        if not diff <= case["tolerance"]:
            print(f"{case['model']}: ONNX Runtime gives {got.shape}, differs by {diff}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
