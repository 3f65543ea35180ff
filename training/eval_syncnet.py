"""Judge a sync expert on held-out clips: can it tell in-sync windows from shifted ones?

Each window pairs a 5-frame lower face with either its own mel window (in sync) or the mel of a
non-overlapping moment of the same clip (shifted by 5 frames or more), half and half at random
(:class:`training.data.datasets.SyncWindows`). The expert says "in sync" when the cosine
similarity of its embeddings is above 0.5, the threshold its BCE loss trains towards. Chance is
the share of the larger class (about 0.5).

Usage::

    python -m training.eval_syncnet runs/expert/ckpt.pt data/val/*.npz --windows 512
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from lipcore.models.syncnet import sync_probability
from training.data.datasets import SyncWindows
from training.data.prepare_clips import ClipData


@dataclass(frozen=True)
class SyncEval:
    """Held-out figures of a sync expert.

    Attributes:
        loss: Mean BCE over the windows.
        accuracy: Share of windows classified right at the 0.5 threshold.
        chance: Accuracy of always answering the larger class.
        windows: Windows scored.
        mean_prob_in_sync: Mean predicted probability of the in-sync windows.
        mean_prob_shifted: Mean predicted probability of the shifted windows.
    """

    loss: float
    accuracy: float
    chance: float
    windows: int
    mean_prob_in_sync: float
    mean_prob_shifted: float


@torch.no_grad()
def evaluate_syncnet(
    model: torch.nn.Module,
    clips: Sequence[ClipData],
    windows: int = 256,
    seed: int = 12345,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
) -> SyncEval:
    """Score ``model`` on ``windows`` random in-sync / shifted windows of ``clips``.

    Args:
        model: A :class:`~lipcore.models.syncnet.SyncNet` (put in eval mode here, restored after).
        clips: Prepared clips the model never trained on.
        windows: How many windows to draw.
        seed: Sampling seed (the same seed draws the same windows for every model compared).
        batch_size: Windows per forward pass.
        device: Where to run.

    Returns:
        A :class:`SyncEval`.
    """
    was_training = model.training
    model.eval()
    data = SyncWindows(clips, length=windows, seed=seed)
    probs, labels = [], []
    try:
        for start in range(0, windows, batch_size):
            items = [data[i] for i in range(start, min(windows, start + batch_size))]
            x = torch.stack([it[0] for it in items]).to(device)
            mel = torch.stack([it[1] for it in items]).to(device)
            y = torch.cat([it[2] for it in items])
            audio_e, face_e = model(mel, x)
            probs.append(sync_probability(audio_e.float(), face_e.float()).cpu())
            labels.append(y)
    finally:
        model.train(was_training)
    p, y = torch.cat(probs), torch.cat(labels)
    loss = torch.nn.functional.binary_cross_entropy(p, y).item()
    accuracy = ((p > 0.5).float() == y).float().mean().item()
    positives = float(y.mean().item())
    return SyncEval(
        loss=loss,
        accuracy=accuracy,
        chance=max(positives, 1.0 - positives),
        windows=len(y),
        mean_prob_in_sync=float(p[y == 1].mean()) if positives > 0 else float("nan"),
        mean_prob_shifted=float(p[y == 0].mean()) if positives < 1 else float("nan"),
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: print the held-out figures of a checkpoint as JSON."""
    from lipcore.models.checkpoints import load_syncnet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--windows", type=int, default=512)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args(argv)
    model = load_syncnet(args.checkpoint)
    clips = [ClipData.load(p) for p in args.clips]
    result = evaluate_syncnet(model, clips, args.windows, args.seed)
    print(json.dumps(asdict(result), indent=2))


if __name__ == "__main__":
    main()
