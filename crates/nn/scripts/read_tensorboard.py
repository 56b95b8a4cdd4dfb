"""Reads a TensorBoard log folder with the `tensorboard` package's EventAccumulator and
prints its scalars as JSON: {"TAG": [[step, value], ...], ...}. Used by the tests in
crates/nn/tests/tensorboard.rs and crates/cli/tests/tensorboard.rs.

Exit code 3 (and a message) when the `tensorboard` package is not installed: the tests then
skip. Install it with `python3 -m venv /work/venv && /work/venv/bin/pip install tensorboard`
and run the tests with NEURITE_PYTHON=/work/venv/bin/python.
"""

import json
import sys

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError as e:
    print(f"the tensorboard package is not installed ({e})", file=sys.stderr)
    sys.exit(3)


def main():
    if len(sys.argv) != 2:
        print("usage: read_tensorboard.py LOGDIR", file=sys.stderr)
        sys.exit(2)
    # size_guidance 0: keep every scalar (the default samples 10,000 per tag).
    acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
    acc.Reload()
    out = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
