#!/usr/bin/env python3
"""Writes the sample images of examples/images/ (standard library only).

- mnist-<label>.png: one image of each class from the MNIST test set
  (t10k-images-idx3-ubyte), 28x28 grey, white digit on black as MNIST stores it: the first
  of its class, except for 5 and 6, whose first test images (indices 8 and 11) are hard to
  read even for a person; the next ones are used.
- cifar10-<class>.png: the first image of each class in a CIFAR-10 test_batch.bin,
  32x32 RGB.

Usage: python3 make_images.py MNIST_DIR CIFAR10_DIR
  MNIST_DIR holds t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz];
  CIFAR10_DIR holds test_batch.bin[.gz] (cifar-10-batches-bin/).
"""
import gzip
import os
import struct
import sys
import zlib

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]


def read(path):
    """The bytes of `path`, or of `path.gz` decompressed."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    with gzip.open(path + ".gz", "rb") as f:
        return f.read()


def write_png(path, width, height, channels, rows):
    """A PNG of 8-bit grey (channels 1) or RGB (channels 3) rows of bytes."""
    colour_type = {1: 0, 3: 2}[channels]
    raw = b"".join(b"\x00" + row for row in rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


# Test-set index of the sample of each digit 0-9.
MNIST_INDICES = [3, 2, 1, 18, 4, 15, 21, 0, 61, 7]


def mnist(dir_, out):
    images = read(os.path.join(dir_, "t10k-images-idx3-ubyte"))
    labels = read(os.path.join(dir_, "t10k-labels-idx1-ubyte"))
    magic, n, h, w = struct.unpack(">IIII", images[:16])
    assert magic == 0x803 and labels[:4] == b"\x00\x00\x08\x01"
    for digit, i in enumerate(MNIST_INDICES):
        assert labels[8 + i] == digit, (i, labels[8 + i], digit)
        pixels = images[16 + i * h * w: 16 + (i + 1) * h * w]
        write_png(os.path.join(out, f"mnist-{digit}.png"), w, h, 1,
                  [pixels[r * w:(r + 1) * w] for r in range(h)])
        print(f"mnist-{digit}.png: test image {i}")


def cifar10(dir_, out):
    data = read(os.path.join(dir_, "test_batch.bin"))
    record = 1 + 3 * 1024
    done = set()
    for i in range(len(data) // record):
        rec = data[i * record:(i + 1) * record]
        label = rec[0]
        if label in done:
            continue
        done.add(label)
        r, g, b = rec[1:1025], rec[1025:2049], rec[2049:3073]
        rows = [bytes(v for x in range(32) for v in (r[y * 32 + x], g[y * 32 + x], b[y * 32 + x]))
                for y in range(32)]
        name = f"cifar10-{CIFAR10_CLASSES[label]}.png"
        write_png(os.path.join(out, name), 32, 32, 3, rows)
        print(f"{name}: test record {i}")
        if len(done) == 10:
            break


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    mnist(sys.argv[1], here)
    cifar10(sys.argv[2], here)
