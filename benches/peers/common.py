"""What every peer script of `cargo xtask bench` shares: argument parsing, MNIST from raw IDX
files, thread pinning, the sgemm timing loop and the JSON line on stdout.

Each peer script (pytorch_workloads.py, jax_workloads.py, ...) defines `run(args) -> dict` and
calls `main(run, peer_names)`. One workload and one repeat per process; the harness interleaves
the processes with neurite's runs and reads the last stdout line as JSON.
"""
import argparse
import json
import os
import struct
import sys
import time


def read_idx(path):
    """An IDX file as a numpy array of its declared shape (uint8)."""
    import numpy as np
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_mnist(data_dir):
    """(train images / 255 as f32 [N, 784], train labels int64, test images, test labels)."""
    import numpy as np
    d = os.path.join(data_dir, "mnist")
    xtr = read_idx(os.path.join(d, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    ytr = read_idx(os.path.join(d, "train-labels-idx1-ubyte")).astype(np.int64)
    xte = read_idx(os.path.join(d, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    yte = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte")).astype(np.int64)
    return xtr, ytr, xte, yte


def pin_threads(threads):
    """Restricts this process to `threads` CPUs (the first ones it may use), so that a
    framework whose thread count cannot be set exactly (XLA, Eigen) still uses that many cores."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        if threads < len(cpus):
            os.sched_setaffinity(0, cpus[:threads])
    except (AttributeError, OSError):
        pass


def time_sgemm(mm, make, sync=lambda x: x):
    """GFLOP/s of `mm` at 1024^3 and 64x784x128 (W7), the timed quantity being one 1024^3 product."""
    out = {}
    for (m, k, n) in [(1024, 1024, 1024), (64, 784, 128)]:
        a, b = make(m, k), make(k, n)
        reps = 20 if m == 1024 else 2000
        sync(mm(a, b))
        start = time.perf_counter()
        for _ in range(reps):
            r = mm(a, b)
        sync(r)
        sec = (time.perf_counter() - start) / reps
        out[f"gflops_{m}x{k}x{n}"] = 2 * m * k * n / sec / 1e9
    out["seconds"] = 2 * 1024 ** 3 / out["gflops_1024x1024x1024"] / 1e9
    return out


def best_of(repeats, fn):
    """The smallest wall time of `repeats` calls of `fn`."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(run, peers, doc):
    """Parses the common arguments, runs one workload and prints its JSON result."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("workload")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--accuracy", action="store_true", help="W3: also train one epoch for test accuracy")
    p.add_argument("--peer", choices=peers, default=peers[0])
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    pin_threads(args.threads)
    result = run(args)
    result["workload"] = args.workload
    result["peer"] = args.peer
    json.dump(result, sys.stdout)
    print()
