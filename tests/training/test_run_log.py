"""Readable runs: metrics.jsonl, the TensorBoard events beside it, and the curves PNG."""

from __future__ import annotations

import struct

import pytest

from training.plot_curves import plot_run
from training.run_log import METRICS_NAME, TENSORBOARD_DIR, RunLog, read_metrics


def _scalars(tb_dir) -> list[tuple[int, str, float]]:
    """Every (step, tag, value) in the event files of ``tb_dir`` (TFRecord framing)."""
    from tensorboardX.proto import event_pb2

    out = []
    for path in sorted(tb_dir.glob("events.out.tfevents.*")):
        data, i = path.read_bytes(), 0
        while i < len(data):
            (n,) = struct.unpack("<Q", data[i : i + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[i + 12 : i + 12 + n])
            i += 12 + n + 4
            out += [(event.step, v.tag, v.simple_value) for v in event.summary.value]
    return out


def test_rows_go_to_tensorboard_and_a_fresh_run_replaces_an_old_one(tmp_path):
    pytest.importorskip("tensorboardX")
    log = RunLog(tmp_path)
    log.add(10, loss=0.7)
    log.add(20, loss=0.5, val_accuracy=0.6)
    log.close()
    assert _scalars(tmp_path / TENSORBOARD_DIR) == [
        (10, "loss", pytest.approx(0.7)),
        (20, "loss", pytest.approx(0.5)),
        (20, "val_accuracy", pytest.approx(0.6)),
    ]
    # A new run from step 0 in the same folder: only its own curve remains, in both files
    log = RunLog(tmp_path)
    log.add(5, loss=0.9)
    log.close()
    assert _scalars(tmp_path / TENSORBOARD_DIR) == [(5, "loss", pytest.approx(0.9))]
    assert read_metrics(tmp_path / METRICS_NAME) == [{"step": 5, "loss": 0.9}]


def test_tensorboard_can_be_turned_off(tmp_path):
    log = RunLog(tmp_path, tensorboard=False)
    log.add(1, loss=1.0)
    log.close()
    assert not (tmp_path / TENSORBOARD_DIR).exists()
    assert read_metrics(tmp_path / METRICS_NAME) == [{"step": 1, "loss": 1.0}]


def test_a_ridge_sweep_plots_against_the_strength(tmp_path):
    log = RunLog(tmp_path, tensorboard=False)
    for k, alpha in enumerate((100.0, 1000.0, 10000.0)):
        log.add(k, alpha=alpha, loss=0.1 + k, val_loss=0.3, val_r_gap_own=0.4,
                val_r_gap_foreign=0.0)  # fmt: skip
    png = plot_run(tmp_path, "sweep", x_key="alpha")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
