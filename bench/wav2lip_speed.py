"""Frames per second of Wav2Lip generator inference (the engine's ``generate``) per batch size.

Every figure is printed beside its ratio to a baseline measured in the same run (fp32, batch
1, on the same device), so numbers from different machines are not compared directly.

Usage::

    python bench/wav2lip_speed.py                       # CPU, random full-size generator
    python bench/wav2lip_speed.py --checkpoint wav2lip_gan.pth --device cuda --batches 1 16 64
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from lipcore.engines.base import CropBatch, EngineOptions, SegmentDrive
from lipcore.engines.wav2lip import Wav2LipEngine
from lipcore.models.checkpoints import save_public_checkpoint
from lipcore.models.device import describe_device
from lipcore.models.wav2lip import Wav2Lip


def measure(engine: Wav2LipEngine, batch: int, seconds: float) -> float:
    """Frames per second of ``engine.generate`` on batches of ``batch`` frames."""
    rng = np.random.default_rng(0)
    n = batch
    engine.batch_frames = batch
    engine.begin_segment(
        SegmentDrive(
            frames=np.arange(n),
            mel_windows=rng.uniform(-4, 4, (n, 80, 16)).astype(np.float32),
            voiced=np.ones(n, bool),
            fps=Fraction(25),
            audio_16k=np.zeros(16000, np.float32),
        )
    )
    crops = rng.integers(0, 255, (n, 96, 96, 3), dtype=np.uint8)
    job = CropBatch(np.arange(n), crops, np.zeros((n, 478, 2), np.float32))
    engine.generate(job)  # warm-up (allocations, cuDNN autotune)
    frames, start = 0, time.perf_counter()
    while True:
        engine.generate(job)
        frames += n
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and frames >= 2 * n:
            return frames / elapsed


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: random weights")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = args.checkpoint
        if checkpoint is None:
            torch.manual_seed(0)
            checkpoint = save_public_checkpoint(Wav2Lip().eval(), Path(tmp) / "random.pth")
        fp32 = Wav2LipEngine(
            EngineOptions(reference="self"), checkpoint, device=args.device, fp16=False
        )
        print(f"device: {describe_device(fp32.device)}  checkpoint: {args.checkpoint or 'random'}")
        baseline = measure(fp32, 1, args.seconds)
        print(f"{'mode':<6}{'batch':>6}{'frames/s':>12}{'x baseline':>12}")
        print(f"{'fp32':<6}{1:>6}{baseline:>12.1f}{1.0:>12.2f}   (baseline)")
        for batch in args.batches:
            if batch == 1:
                continue
            fps = measure(fp32, batch, args.seconds)
            print(f"{'fp32':<6}{batch:>6}{fps:>12.1f}{fps / baseline:>12.2f}")
        if fp32.device.type == "cuda":
            fp16 = Wav2LipEngine(
                EngineOptions(reference="self"), checkpoint, device=args.device, fp16=True
            )
            for batch in args.batches:
                fps = measure(fp16, batch, args.seconds)
                print(f"{'fp16':<6}{batch:>6}{fps:>12.1f}{fps / baseline:>12.2f}")


if __name__ == "__main__":
    main()
