#!/usr/bin/env python3
"""The W1-W5 and W7 workloads of docs/benchmarks.md in JAX, in two variants.

* `--peer jax`: one `jax.jit` of the whole train step (forward, loss, gradients, optimizer),
  called per batch with the batch gathered on the host, as a training loop is usually written.
* `--peer jax-scan` (W1, W2): the whole epoch inside one `jit`: the permutation is drawn
  outside, the batches are gathered inside, and `lax.scan` runs the steps (the last partial
  batch is one more step in the same program). This removes all per-step dispatch.

Compilation is excluded from the time (ahead-of-time `lower().compile()` for every shape the
timed code meets). Optimizers are written out (SGD, SGD with PyTorch-style momentum, Adam with
PyTorch's defaults); initial weights are PyTorch-style uniform(+-1/sqrt(fan_in)).

Usage: jax_workloads.py WORKLOAD --data-dir DIR [--threads 2] [--epochs 1] [--peer jax|jax-scan]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import best_of, load_mnist, main, time_sgemm  # noqa: E402


def init_params(rng, layers):
    """PyTorch-style initial weights for a list of ("dense", in, out) / ("conv", cin, cout)."""
    import numpy as np
    params = []
    for kind, fan_in_units, out in layers:
        fan_in = fan_in_units * (9 if kind == "conv" else 1)
        bound = 1.0 / np.sqrt(fan_in)
        shape = (3, 3, fan_in_units, out) if kind == "conv" else (fan_in_units, out)
        params.append((rng.uniform(-bound, bound, shape).astype(np.float32),
                       rng.uniform(-bound, bound, (out,)).astype(np.float32)))
    return params


def mlp(params, x):
    import jax.numpy as jnp
    for i, (w, b) in enumerate(params):
        x = x @ w + b
        if i + 1 < len(params):
            x = jnp.maximum(x, 0.0)
    return x


def cnn(params, x, pad):
    """W3 (pad "VALID": conv conv pool) or W4 (pad "SAME": conv pool conv pool), NHWC."""
    import jax.numpy as jnp
    from jax import lax

    def conv(x, w, b):
        y = lax.conv_general_dilated(x, w, (1, 1), pad, dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jnp.maximum(y + b, 0.0)

    def pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    (w1, b1), (w2, b2), (w3, b3), (w4, b4) = params
    if pad == "VALID":
        x = pool(conv(conv(x, w1, b1), w2, b2))
    else:
        x = pool(conv(pool(conv(x, w1, b1)), w2, b2))
    x = x.reshape(x.shape[0], -1)
    return jnp.maximum(x @ w3 + b3, 0.0) @ w4 + b4


def loss_fn(forward):
    import jax
    import jax.numpy as jnp

    def loss(params, x, y):
        logits = forward(params, x)
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
    return loss


def optimizer(kind):
    """(init(params) -> state, update(params, grads, state) -> (params, state))."""
    import jax
    import jax.numpy as jnp
    tmap = jax.tree_util.tree_map
    if kind == "sgd":
        return (lambda p: (), lambda p, g, s: (tmap(lambda a, b: a - 0.1 * b, p, g), s))
    if kind == "momentum":
        def update(p, g, buf):
            buf = tmap(lambda v, d: 0.9 * v + d, buf, g)
            return tmap(lambda a, v: a - 0.01 * v, p, buf), buf
        return (lambda p: tmap(jnp.zeros_like, p), update)

    def adam_update(p, g, state):
        m, v, t = state
        t = t + 1
        m = tmap(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = tmap(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
        p = tmap(lambda p, m, v: p - 1e-3 * (m / c1) / (jnp.sqrt(v / c2) + 1e-8), p, m, v)
        return p, (m, v, t)
    return (lambda p: (tmap(jnp.zeros_like, p), tmap(jnp.zeros_like, p), jnp.zeros((), jnp.float32)),
            adam_update)


def make_step(forward, opt_update):
    import jax
    grad = jax.grad(loss_fn(forward))

    def step(params, state, x, y):
        return opt_update(params, grad(params, x, y), state)
    return step


def accuracy(predict, params, x, y):
    import numpy as np
    correct = 0
    for i in range(0, len(x), 1000):
        correct += int((np.asarray(predict(params, x[i:i + 1000])).argmax(1) == y[i:i + 1000]).sum())
    return correct / len(x)


def train_mlp(args, layers, opt_kind, batch):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax
    xtr, ytr, xte, yte = load_mnist(args.data_dir)
    ytr32 = ytr.astype(np.int32)
    rng = np.random.default_rng(args.seed)
    params = jax.tree_util.tree_map(jnp.asarray, init_params(rng, layers))
    opt_init, opt_update = optimizer(opt_kind)
    state = opt_init(params)
    step = make_step(mlp, opt_update)
    n = len(xtr)
    full, rest = n // batch, n % batch
    times = []
    if args.peer == "jax-scan":
        x_dev, y_dev = jnp.asarray(xtr), jnp.asarray(ytr32)

        def epoch(params, state, x, y, perm):
            idx = perm[:full * batch].reshape(full, batch)

            def body(carry, i):
                p, s = carry
                return step(p, s, x[i], y[i]), None
            (params, state), _ = lax.scan(body, (params, state), idx)
            if rest:
                tail = perm[full * batch:]
                params, state = step(params, state, x[tail], y[tail])
            return params, state

        perm0 = jnp.asarray(rng.permutation(n).astype(np.int32))
        compiled = jax.jit(epoch).lower(params, state, x_dev, y_dev, perm0).compile()
        for _ in range(args.epochs):
            perm = rng.permutation(n).astype(np.int32)
            start = time.perf_counter()
            params, state = compiled(params, state, x_dev, y_dev, jnp.asarray(perm))
            jax.block_until_ready(params)
            times.append(time.perf_counter() - start)
    else:
        jitted = jax.jit(step)
        shapes = {batch} | ({rest} if rest else set())
        compiled = {b: jitted.lower(params, state, jnp.zeros((b, 784), jnp.float32),
                                    jnp.zeros((b,), jnp.int32)).compile() for b in shapes}
        for _ in range(args.epochs):
            start = time.perf_counter()
            perm = rng.permutation(n)
            for i in range(0, n, batch):
                idx = perm[i:i + batch]
                params, state = compiled[len(idx)](params, state, jnp.asarray(xtr[idx]), jnp.asarray(ytr32[idx]))
            jax.block_until_ready(params)
            times.append(time.perf_counter() - start)
    predict = jax.jit(mlp)
    return {"seconds": times[0], "epoch_seconds": times, "accuracy": accuracy(predict, params, xte, yte)}


def train_cnn(args):
    import jax
    import jax.numpy as jnp
    import numpy as np
    w = args.workload
    rng = np.random.default_rng(args.seed)
    if w == "W3":
        xtr, ytr, xte, yte = load_mnist(args.data_dir)
        xs, ys, steps, pad = xtr.reshape(-1, 28, 28, 1), ytr.astype(np.int32), 200, "VALID"
        layers = [("conv", 1, 32), ("conv", 32, 64), ("dense", 9216, 128), ("dense", 128, 10)]
    else:
        xs = rng.random((64 * 8, 32, 32, 3), dtype=np.float32)
        ys = rng.integers(0, 10, 64 * 8).astype(np.int32)
        steps, pad = 100, "SAME"
        layers = [("conv", 3, 32), ("conv", 32, 64), ("dense", 4096, 128), ("dense", 128, 10)]
    forward = lambda p, x: cnn(p, x, pad)  # noqa: E731
    params = jax.tree_util.tree_map(jnp.asarray, init_params(rng, layers))
    opt_init, opt_update = optimizer("momentum")
    state = opt_init(params)
    compiled = jax.jit(make_step(forward, opt_update)).lower(
        params, state, jnp.zeros((64,) + xs.shape[1:], jnp.float32), jnp.zeros((64,), jnp.int32)).compile()

    def run_steps(params, state, first, count):
        for i in range(first, first + count):
            j = (i * 64) % (len(xs) - 64)
            params, state = compiled(params, state, jnp.asarray(xs[j:j + 64]), jnp.asarray(ys[j:j + 64]))
        jax.block_until_ready(params)
        return params, state

    params, state = run_steps(params, state, 0, 5)
    start = time.perf_counter()
    run_steps(params, state, 5, steps)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "images_per_second": steps * 64 / seconds}


def infer(args):
    import jax
    import jax.numpy as jnp
    import numpy as np
    _, _, xte, _ = load_mnist(args.data_dir)
    params = jax.tree_util.tree_map(jnp.asarray, init_params(np.random.default_rng(args.seed),
                                                             [("dense", 784, 128), ("dense", 128, 10)]))
    predict = jax.jit(mlp)
    batches = [xte[i:i + 1000] for i in range(0, len(xte), 1000)]
    jax.block_until_ready(predict(params, jnp.asarray(batches[0])))

    def epoch():
        for b in batches:
            out = predict(params, jnp.asarray(b))
        jax.block_until_ready(out)

    best = best_of(3, epoch)
    return {"seconds": best, "images_per_second": len(xte) / best}


def run(args):
    import jax
    import jax.numpy as jnp
    w = args.workload
    if args.peer == "jax-scan" and w not in ("W1", "W2"):
        raise SystemExit(f"workload {w} has no jax-scan variant (W1, W2 only)")
    if w == "W1":
        out = train_mlp(args, [("dense", 784, 128), ("dense", 128, 10)], "sgd", 64)
    elif w == "W2":
        out = train_mlp(args, [("dense", 784, 512), ("dense", 512, 512), ("dense", 512, 10)], "adam", 128)
    elif w in ("W3", "W4"):
        out = train_cnn(args)
    elif w == "W5":
        out = infer(args)
    elif w == "W7":
        import numpy as np
        mm = jax.jit(jnp.dot)
        out = time_sgemm(mm, lambda m, k: jnp.asarray(np.random.rand(m, k).astype(np.float32)),
                         jax.block_until_ready)
    else:
        raise SystemExit(f"workload {w} has no JAX version")
    out["version"] = jax.__version__
    return out


if __name__ == "__main__":
    main(run, ["jax", "jax-scan"], __doc__)
