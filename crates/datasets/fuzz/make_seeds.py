#!/usr/bin/env python3
"""Writes the committed seed corpora of the datasets fuzz targets into fuzz/seeds/<target>/.

Run from crates/datasets/fuzz: `python3 make_seeds.py`. Small valid files of each format
(and a few near misses), so libFuzzer starts past the header checks.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def idx(code, dims, elem_size):
    n = 1
    for x in dims:
        n *= x
    head = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", x) for x in dims)
    return head + bytes((i * 7) % 256 for i in range(n * elem_size))


# IDX: every type code, ranks 1 to 3, plus a truncated and a trailing-byte file.
write("idx", "u8-labels", idx(0x08, [5], 1))
write("idx", "u8-images", idx(0x08, [2, 3, 3], 1))
write("idx", "i8", idx(0x09, [4], 1))
write("idx", "i16", idx(0x0B, [2, 2], 2))
write("idx", "i32", idx(0x0C, [3], 4))
write("idx", "f32", idx(0x0D, [2, 1], 4))
write("idx", "f64", idx(0x0E, [1, 2], 8))
write("idx", "truncated", idx(0x08, [2, 3, 3], 1)[:-1])
write("idx", "trailing", idx(0x08, [3], 1) + b"\x00")

# CIFAR: the target takes a mode byte and builds whole records from the rest (see cifar.rs);
# whole records in both layouts, and a raw CIFAR-10 record.
pixels = bytes((i * 13) % 256 for i in range(3072))
# Mode byte (bit 0: CIFAR-100 layout; bits 1-2: records - 1), then the records.
write("cifar", "cifar10-one", bytes([0, 3]) + pixels)
write("cifar", "cifar10-two", bytes([2, 9]) + pixels + bytes([0]) + pixels)
write("cifar", "cifar100-one", bytes([1, 5, 77]) + pixels)
write("cifar", "cifar10-bad-label", bytes([0, 10]) + pixels)
write("cifar", "cifar10-raw", bytes([7]) + pixels)
write("cifar", "short", bytes([1, 2, 3, 4]))

# Tar archives for `unpack` (raw and gzip): wanted files under batches/, an unwanted one, a
# folder, a link and a `..` entry (both refused).
import gzip
import io
import tarfile


def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = payload.decode()
                t.addfile(info)
            else:
                info.size = len(payload)
                t.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


good = tar([("batches/", "dir", b""), ("batches/data_1.bin", "file", bytes(range(200))),
            ("batches/meta.txt", "file", b"cat\ndog\n"), ("readme.html", "file", b"<html/>")])
write("unpack", "good.tar", good)
write("unpack", "good.tar.gz", gzip.compress(good, mtime=0))
write("unpack", "link.tar", tar([("batches/l", "link", b"/etc/passwd")]))
write("unpack", "dotdot.tar", tar([("batches/../../x", "file", b"x")]))
write("unpack", "big.tar", tar([("batches/big.bin", "file", bytes(70000))]))

# Content-Range header values.
for i, v in enumerate(["bytes 100-199/200", "bytes 5-9/*", "bytes 0-0/1", "items 1-2/3",
                       "bytes 500-10/1000", "bytes  7 - 8 / 9 ", "bytes 18446744073709551614-18446744073709551614/18446744073709551615"]):
    write("content_range", "seed%d" % i, v.encode())

# Image-folder caches (src/cache.rs): valid ones (grey and RGB), and near misses: one byte
# short, one byte long, a wrong magic, a huge image count, a label beyond the classes.


def folder_cache(n_train, n_test, c, h, w, names, labels=None):
    blob = b"".join(struct.pack("<H", len(n)) + n.encode() for n in names)
    header_len = 8 + 4 + 4 + 8 + 8 + 8 + 4 * 4 + len(blob)
    head = b"NRTIMGC\0" + struct.pack("<IIQQQIIII", 1, header_len, 7, n_train, n_test, c, h, w, len(names))
    n = n_train + n_test
    pixels = bytes((i * 11) % 256 for i in range(n * c * h * w))
    if labels is None:
        labels = bytes(i % len(names) for i in range(n))
    return head + blob + pixels + labels


grey = folder_cache(2, 1, 1, 2, 3, ["cat", "dog"])
write("folder_cache", "grey", grey)
write("folder_cache", "rgb", folder_cache(1, 2, 3, 2, 2, ["a", "b", "c"]))
write("folder_cache", "truncated", grey[:-1])
write("folder_cache", "trailing", grey + b"\0")
write("folder_cache", "bad-magic", b"NRTIMGX\0" + grey[8:])
write("folder_cache", "huge-n", grey[:24] + struct.pack("<Q", 1 << 60) + grey[32:])
write("folder_cache", "bad-label", folder_cache(1, 1, 1, 1, 1, ["only"], bytes([0, 3])))
