"""Writes tests/fixtures/tensorboard_events.bin: three events framed by TensorFlow's record
format, made with the `tensorboard` package's own protobuf classes and record writer (not
with neurite's code), so crates/nn/tests/tensorboard.rs can check neurite's bytes against it.

    python3 -m venv /work/venv && /work/venv/bin/pip install tensorboard
    /work/venv/bin/python crates/nn/scripts/make_tensorboard_fixture.py
"""

import io
import os

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.record_writer import RecordWriter

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "tensorboard_events.bin")


def main():
    buf = io.BytesIO()
    writer = RecordWriter(buf)
    # Must match the events built in tensorboard.rs, field for field.
    writer.write(Event(wall_time=1700000000.5, step=0, file_version="brain.Event:2").SerializeToString())
    writer.write(
        Event(
            wall_time=1700000001.25,
            step=3,
            summary=Summary(value=[Summary.Value(tag="train_loss", simple_value=0.25)]),
        ).SerializeToString()
    )
    writer.write(
        Event(
            wall_time=1700000002.0,
            step=1234567,
            summary=Summary(value=[Summary.Value(tag="step/learning_rate", simple_value=-1.5e-3)]),
        ).SerializeToString()
    )
    with open(OUT, "wb") as f:
        f.write(buf.getvalue())
    print(f"wrote {len(buf.getvalue())} bytes to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
