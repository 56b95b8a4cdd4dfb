#!/usr/bin/env python3
"""The W1-W5 workloads of docs/benchmarks.md in TensorFlow 2 with Keras 3 layers.

Each train step is one `tf.function` (forward, loss, gradients, optimizer update), traced for
a batch dimension of any size before the timer starts; images are NHWC (TensorFlow's CPU
layout). intra-op and inter-op threads are both `--threads`. Keras' own initial weights and
optimizers (SGD, SGD with momentum 0.9, Adam) are used.

Usage: tensorflow_workloads.py WORKLOAD --data-dir DIR [--threads 2] [--epochs 1] [--accuracy]
"""
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import best_of, load_mnist, main  # noqa: E402


def build(keras, w):
    L = keras.layers
    if w in ("W1", "W5"):
        return keras.Sequential([keras.Input((784,)), L.Dense(128, activation="relu"), L.Dense(10)])
    if w == "W2":
        return keras.Sequential([keras.Input((784,)), L.Dense(512, activation="relu"),
                                 L.Dense(512, activation="relu"), L.Dense(10)])
    if w == "W3":
        return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
                                 L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                                 L.Dense(128, activation="relu"), L.Dense(10)])
    return keras.Sequential([keras.Input((32, 32, 3)), L.Conv2D(32, 3, padding="same", activation="relu"),
                             L.MaxPooling2D(2), L.Conv2D(64, 3, padding="same", activation="relu"),
                             L.MaxPooling2D(2), L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10)])


def train_step(tf, keras, model, opt, feature_shape):
    """A traced `tf.function` step for batches of any size."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt.build(model.trainable_variables)

    @tf.function(input_signature=[tf.TensorSpec((None,) + feature_shape, tf.float32),
                                  tf.TensorSpec((None,), tf.int64)])
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def accuracy(tf, model, x, y):
    predict = tf.function(lambda b: model(b, training=False))
    correct = 0
    for i in range(0, len(x), 1000):
        correct += int((predict(x[i:i + 1000]).numpy().argmax(1) == y[i:i + 1000]).sum())
    return correct / len(x)


def run(args):
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras
    keras.utils.set_random_seed(args.seed)
    w = args.workload
    rng = np.random.default_rng(args.seed)
    model = build(keras, w)
    if w in ("W1", "W2"):
        xtr, ytr, xte, yte = load_mnist(args.data_dir)
        opt = keras.optimizers.SGD(0.1) if w == "W1" else keras.optimizers.Adam(1e-3)
        batch = 64 if w == "W1" else 128
        step = train_step(tf, keras, model, opt, (784,))
        times = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            perm = rng.permutation(len(xtr))
            for i in range(0, len(xtr), batch):
                idx = perm[i:i + batch]
                step(xtr[idx], ytr[idx])
            times.append(time.perf_counter() - start)
        out = {"seconds": times[0], "epoch_seconds": times, "accuracy": accuracy(tf, model, xte, yte)}
    elif w in ("W3", "W4"):
        opt = keras.optimizers.SGD(0.01, momentum=0.9)
        if w == "W3":
            xtr, ytr, xte, yte = load_mnist(args.data_dir)
            xs, ys, steps, shape = xtr.reshape(-1, 28, 28, 1), ytr, 200, (28, 28, 1)
        else:
            xs = rng.random((64 * 8, 32, 32, 3), dtype=np.float32)
            ys = rng.integers(0, 10, 64 * 8).astype(np.int64)
            steps, shape = 100, (32, 32, 3)
        step = train_step(tf, keras, model, opt, shape)

        def run_steps(first, count):
            for i in range(first, first + count):
                j = (i * 64) % (len(xs) - 64)
                loss = step(xs[j:j + 64], ys[j:j + 64])
            loss.numpy()

        run_steps(0, 5)
        start = time.perf_counter()
        run_steps(5, steps)
        seconds = time.perf_counter() - start
        out = {"seconds": seconds, "images_per_second": steps * 64 / seconds}
        if w == "W3" and args.accuracy:
            model = build(keras, "W3")
            step = train_step(tf, keras, model, keras.optimizers.SGD(0.01, momentum=0.9), shape)
            perm = rng.permutation(len(xs))
            for i in range(0, len(xs), 64):
                idx = perm[i:i + 64]
                step(xs[idx], ys[idx])
            out["accuracy"] = accuracy(tf, model, xte.reshape(-1, 28, 28, 1), yte)
    elif w == "W5":
        _, _, xte, _ = load_mnist(args.data_dir)
        predict = tf.function(lambda b: model(b, training=False),
                              input_signature=[tf.TensorSpec((None, 784), tf.float32)])
        batches = [xte[i:i + 1000] for i in range(0, len(xte), 1000)]
        predict(batches[0]).numpy()

        def epoch():
            for b in batches:
                out = predict(b)
            out.numpy()

        best = best_of(3, epoch)
        out = {"seconds": best, "images_per_second": len(xte) / best}
    else:
        raise SystemExit(f"workload {w} has no TensorFlow version")
    out["version"] = tf.__version__
    return out


if __name__ == "__main__":
    main(run, ["tensorflow"], __doc__)
