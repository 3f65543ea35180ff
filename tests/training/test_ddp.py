"""Two-process DistributedDataParallel on the CPU (gloo), through the real ``torchrun``.

Checks what a studio relies on when it moves a run to several GPUs: the ranks end with the same
weights, only rank 0 writes the checkpoint (from the unwrapped model, loadable by lipcore), and a
run stopped and resumed continues the same loss curve as one that never stopped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lipcore.models.checkpoints import load_model, load_training_checkpoint
from training.data.prepare_clips import prepare_clip
from training.run_log import read_metrics

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("_ddp_worker.py")
CLIP = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"


@pytest.fixture(scope="module")
def ddp_run(shared_media, tmp_path_factory):
    base = tmp_path_factory.mktemp("ddp")
    clip = prepare_clip(shared_media / CLIP, base / "A01.npz", frames=(0, 20))
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc_per_node=2", str(WORKER), str(clip), str(base)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return base


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("run", ["straight", "split", "gen"])
def test_ranks_end_with_identical_weights(ddp_run, run):
    rank0 = torch.load(ddp_run / run / "rank0.pt", weights_only=True)
    rank1 = torch.load(ddp_run / run / "rank1.pt", weights_only=True)
    assert _same(rank0, rank1)
    # Training moved the weights, and rank 0's checkpoint holds exactly them, unprefixed.
    saved = load_model(ddp_run / run / "ckpt.pt").state_dict()
    assert _same(saved, rank0)
    assert not any(k.startswith("module.") for k in saved)


def test_only_rank_zero_writes_and_the_checkpoint_records_two_processes(ddp_run):
    state = load_training_checkpoint(ddp_run / "straight" / "ckpt.pt")
    assert state.step == 6 and state.extra["world_size"] == 2
    tensorboard = importlib.util.find_spec("tensorboardX") is not None
    assert sorted(p.name for p in (ddp_run / "straight").iterdir()) == [
        "ckpt.pt", "curves.png", "metrics.jsonl", "rank0.pt", "rank1.pt", "syncnet",
    ] + (["tensorboard"] if tensorboard else [])  # fmt: skip
    if tensorboard:  # one writer: rank 0's
        assert len(list((ddp_run / "straight" / "tensorboard").iterdir())) == 1
    assert type(load_model(ddp_run / "gen" / "disc_ckpt.pt")).__name__ == "Wav2LipDiscriminator"


def test_resumed_run_continues_the_same_curve(ddp_run):
    straight = read_metrics(ddp_run / "straight" / "metrics.jsonl")
    split = read_metrics(ddp_run / "split" / "metrics.jsonl")
    assert [r["step"] for r in straight] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in split] == [1, 2, 3, 4, 5, 6]
    # Identical data order, weights and optimizer state: the losses agree to float precision.
    for a, b in zip(straight, split, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6, abs=1e-7)
    assert straight[-1]["val_accuracy"] is not None and straight[2]["val_loss"] is not None
    # Not a flat line: the steps did change the loss.
    assert len({round(r["loss"], 6) for r in straight}) > 1
    rank0 = torch.load(ddp_run / "straight" / "rank0.pt", weights_only=True)
    resumed = torch.load(ddp_run / "split" / "rank0.pt", weights_only=True)
    assert all(torch.allclose(rank0[k].float(), resumed[k].float(), atol=1e-6) for k in rank0)
