"""Writes the Keras model JSON fixtures under crates/nn/tests/fixtures/keras/.

Each model is built with real Keras 3 and saved with `model.to_json()`; `params.json` records
`model.count_params()` for each, which `neurite summary` and the spec must reproduce. Files
named `unsupported_*.json` hold models neurite must refuse with a clear error.

Run (any Keras 3 backend works; JAX is the lightest):
    python3 -m venv /tmp/venv-keras && /tmp/venv-keras/bin/pip install keras jax
    KERAS_BACKEND=jax /tmp/venv-keras/bin/python crates/nn/scripts/make_keras_models.py
"""

import json
import os

import keras
from keras import layers

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras")


def models():
    # The classic MNIST MLP of Keras' and TensorFlow's tutorials.
    yield "mnist_mlp", keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_mlp",
    )
    # keras.io's "Simple MNIST convnet" example.
    yield "mnist_convnet", keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_convnet",
    )
    # Batch norm, 'same' padding, strides, pooling and global pooling on CIFAR-sized images.
    yield "cifar_bn", keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(32, 3, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Conv2D(64, 3, strides=2, padding="valid"),
            layers.ReLU(),
            layers.AveragePooling2D(pool_size=2),
            layers.Conv2D(64, 3, padding="same", dilation_rate=1, groups=4, activation="relu"),
            layers.MaxPooling2D(pool_size=3, strides=1, padding="same"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(64, activation="tanh"),
            layers.BatchNormalization(),
            layers.Dense(10),
        ],
        name="cifar_bn",
    )
    # No InputLayer: the input shape comes from build().
    m = keras.Sequential([layers.Dense(64, activation="sigmoid"), layers.Dense(10)], name="built_mlp")
    m.build((None, 784))
    yield "built_mlp", m
    # Refused: a layer neurite does not have.
    yield "unsupported_conv1d", keras.Sequential(
        [keras.Input((100, 1)), layers.Conv1D(8, 3), layers.Flatten(), layers.Dense(2)], name="conv1d"
    )
    # Refused: a regularizer (it changes training in a way neurite cannot express).
    yield "unsupported_regularizer", keras.Sequential(
        [keras.Input((784,)), layers.Dense(10, kernel_regularizer=keras.regularizers.L2(0.01))],
        name="regularized",
    )
    # Refused: 'same' padding with stride 2 (more zeros on one side than the other).
    yield "unsupported_same_stride2", keras.Sequential(
        [keras.Input((28, 28, 1)), layers.Conv2D(8, 3, strides=2, padding="same"), layers.Flatten(), layers.Dense(10)],
        name="same_stride2",
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    counts = {}
    for name, model in models():
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            f.write(model.to_json(indent=1) + "\n")
        counts[name] = model.count_params()
        print(f"{name}: {counts[name]} parameters")
    counts["keras_version"] = keras.__version__
    with open(os.path.join(OUT, "params.json"), "w") as f:
        json.dump(counts, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
