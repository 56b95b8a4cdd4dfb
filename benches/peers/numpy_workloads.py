#!/usr/bin/env python3
"""The W6 (load) and W7 (sgemm) workloads of docs/benchmarks.md in numpy.

Run by `cargo xtask bench --compare numpy` (W6, W7), one repeat per process call. Besides the
timings it reports which BLAS numpy runs and with which kernel (threadpoolctl), since that
decides W7: OpenBLAS picks its kernel from the CPU unless OPENBLAS_CORETYPE forces one (the
harness removes that variable from this process's environment).

Usage: numpy_workloads.py W6|W7 --data-dir DIR [--threads 2]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import main, read_idx, time_sgemm  # noqa: E402


def blas_info():
    """`openblas 0.3.30 SkylakeX, 2 threads` (or what threadpoolctl can tell)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return f'{pool.get("internal_api")} {pool.get("version")} {pool.get("architecture")}, {pool.get("num_threads")} threads'
    return "no BLAS pool found"


def run(args):
    import numpy as np
    w = args.workload
    if w == "W6":
        start = time.perf_counter()
        d = os.path.join(args.data_dir, "mnist")
        xtr = read_idx(os.path.join(d, "train-images-idx3-ubyte"))
        ytr = read_idx(os.path.join(d, "train-labels-idx1-ubyte"))
        read_idx(os.path.join(d, "t10k-images-idx3-ubyte"))
        read_idx(os.path.join(d, "t10k-labels-idx1-ubyte"))
        rng = np.random.default_rng(args.seed)
        perm = rng.permutation(len(xtr))
        first = xtr[perm[:64]].reshape(64, 784).astype(np.float32) / 255.0
        first_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            batch = xtr[idx].reshape(len(idx), 784).astype(np.float32) / 255.0
            labels = ytr[idx]
        full = time.perf_counter() - start
        assert first.shape == (64, 784) and batch.dtype == np.float32 and len(labels) > 0
        return {"seconds": first_ms / 1000, "first_batch_ms": first_ms, "full_pass_seconds": full,
                "version": np.__version__}
    if w == "W7":
        out = time_sgemm(lambda a, b: a @ b, lambda m, k: np.random.rand(m, k).astype(np.float32))
        out["version"] = np.__version__
        out["blas"] = blas_info()
        return out
    raise SystemExit(f"workload {w} has no numpy version")


if __name__ == "__main__":
    main(run, ["numpy"], __doc__)
