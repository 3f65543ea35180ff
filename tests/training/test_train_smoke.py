"""Training smoke tests: 2 steps on the start of a real clip, then the checkpoints load back."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from lipcore.engines.base import CropBatch, EngineOptions, SegmentDrive
from lipcore.errors import CheckpointError
from lipcore.models.checkpoints import load_model, load_syncnet, load_training_checkpoint
from training.configs.generator import PRESETS as GEN_PRESETS
from training.configs.syncnet import PRESETS as SYNC_PRESETS
from training.data.datasets import GeneratorWindows, SyncWindows, load_clips
from training.data.prepare_clips import ClipData, prepare_clip
from training.train_generator import train_generator
from training.train_syncnet import train_syncnet

CLIP = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread: on a shared, oversubscribed CPU, 2 OpenMP threads run tiny nets
    several times slower than 1."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def prepared(shared_media, tmp_path_factory):
    out = tmp_path_factory.mktemp("clips") / "A01.npz"
    return prepare_clip(shared_media / CLIP, out, frames=(0, 20))


@pytest.fixture(scope="module")
def expert_run(prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("expert")
    return train_syncnet(SYNC_PRESETS["smoke"], [prepared], out), out


def test_prepared_clip(prepared):
    clip = ClipData.load(prepared)
    assert clip.crops.shape == (20, 96, 96, 3) and clip.crops.dtype == np.uint8
    np.testing.assert_array_equal(clip.frames, np.arange(20))
    assert clip.fps == 25 and clip.mel.shape[0] == 80
    assert clip.crops.std() > 10  # real picture, not a blank crop
    x, mel, y = SyncWindows(load_clips([prepared]), length=4, seed=0)[0]
    assert x.shape == (15, 48, 96) and mel.shape == (1, 80, 16) and y.shape == (1,)
    x, indiv, mel, gt = GeneratorWindows(load_clips([prepared]), length=4, seed=0)[1]
    assert x.shape == (6, 5, 96, 96) and indiv.shape == (5, 1, 80, 16)
    assert gt.shape == (3, 5, 96, 96) and float(x[:3, :, 48:].abs().max()) == 0.0


def test_train_syncnet_two_steps_and_resume(expert_run, prepared):
    ckpt, out = expert_run
    assert ckpt.exists() and (out / "syncnet" / "config.json").exists()
    state = load_training_checkpoint(ckpt)
    assert state.step == 2 and state.optimizer_state is not None
    assert state.extra["train_config"]["batch_size"] == 2
    assert load_syncnet(ckpt).config.base_channels == 4  # the user path
    assert type(load_model(out / "syncnet")).__name__ == "SyncNet"
    more = dataclasses.replace(SYNC_PRESETS["smoke"], max_steps=3)
    assert load_training_checkpoint(train_syncnet(more, [prepared], out, resume=True)).step == 3


def test_train_generator_loads_in_the_engine(expert_run, prepared, tmp_path):
    from lipcore.engines.wav2lip import Wav2LipEngine

    expert_ckpt, _ = expert_run
    ckpt = train_generator(GEN_PRESETS["smoke"], [prepared], tmp_path, expert_ckpt)
    assert ckpt.exists() and (tmp_path / "generator" / "config.json").exists()
    meta = json.loads((tmp_path / "generator" / "config.json").read_text())
    assert meta["net"] == "wav2lip" and meta["config"]["base_channels"] == 4
    assert load_training_checkpoint(ckpt).step == 2
    clip = ClipData.load(prepared)
    for weights in (ckpt, tmp_path / "generator"):
        engine = Wav2LipEngine(EngineOptions(reference="self"), checkpoint=weights, device="cpu")
        from lipcore.audio.mel import mel_windows

        n = 4
        engine.begin_segment(
            SegmentDrive(
                frames=np.arange(n),
                mel_windows=mel_windows(clip.mel, np.arange(n), clip.fps),
                voiced=np.ones(n, bool),
                fps=clip.fps,
                audio_16k=clip.audio_16k,
            )
        )
        out = engine.generate(
            CropBatch(np.arange(n), clip.crops[:n], np.zeros((n, 478, 2), np.float32))
        )
        assert out.shape == (n, 96, 96, 3) and out.dtype == np.uint8


def test_train_generator_gan_saves_discriminator(expert_run, prepared, tmp_path):
    expert_ckpt, _ = expert_run
    train_generator(GEN_PRESETS["smoke_gan"], [prepared], tmp_path, expert_ckpt)
    disc = load_model(tmp_path / "disc_ckpt.pt")
    assert type(disc).__name__ == "Wav2LipDiscriminator"
    with torch.no_grad():
        assert disc(torch.rand(1, 3, 96, 96)).shape == (1, 1)


def test_generator_needs_an_expert(prepared, tmp_path):
    with pytest.raises(CheckpointError, match="needs a sync expert"):
        train_generator(GEN_PRESETS["smoke"], [prepared], tmp_path, None)


def test_prepare_rejects_a_range_outside_the_clip(shared_media, tmp_path):
    from lipcore.errors import LipsyncError

    with pytest.raises(LipsyncError, match="outside the clip"):
        prepare_clip(shared_media / CLIP, tmp_path / "x.npz", frames=(5000, 5100))


def test_rank_batches_continue_exactly_where_an_uninterrupted_run_was():
    from torch.utils.data import Dataset

    from training.distributed import DistContext, rank_batches

    class Numbers(Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return torch.tensor([i])

    full = [b.flatten().tolist() for b in rank_batches(Numbers(), 3, 0, 0)]
    assert full == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert [b.flatten().tolist() for b in rank_batches(Numbers(), 3, 0, 2)] == full[2:]
    assert list(rank_batches(Numbers(), 3, 0, 5)) == []
    # Two ranks split every step's items between them, and resume the same way.
    ranks = [DistContext(r, 2, r, "gloo") for r in (0, 1)]
    split = [[b.flatten().tolist() for b in rank_batches(Numbers(), 2, 0, 0, c)] for c in ranks]
    assert split == [[[0, 2], [4, 6]], [[1, 3], [5, 7]]]
    assert [b.flatten().tolist() for b in rank_batches(Numbers(), 2, 0, 1, ranks[1])] == [[5, 7]]
    # The same partition torch's DistributedSampler makes, without its in-memory index list.
    from torch.utils.data.distributed import DistributedSampler

    for c in ranks:
        dealt = list(DistributedSampler(Numbers(), 2, c.rank, shuffle=False, drop_last=True))
        got = [i for b in rank_batches(Numbers(), 1, 0, 0, c) for i in b.flatten().tolist()]
        assert got == dealt
