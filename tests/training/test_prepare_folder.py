"""Preparing a folder in the LRS2 layout: tracking, the data gate, the speaker split, resuming.

Real shared clips: A07 (in sync), the same recording muxed with its audio 0.32 s late (a bad mux
the gate must move back into sync), A04 (another speaker) and A11 (no audio: dropped).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from lipcore.progress import drain
from training.data.prepare_clips import ClipData
from training.data.prepare_folder import FolderSettings, iter_prepare_folder, split_paths

A07 = "video/A07_frontal_woman_glasses_524p25_retalking5.mp4"
A04 = "video/A04_frontal_man_mapbg_844p25_retalking2.mp4"
A11 = "video/A11_facecrop_256p30_noaudio_iplap_129.mp4"
LATE_SEC = 0.32


@pytest.fixture(scope="module")
def lrs2_tree(shared_media, tmp_path_factory):
    root = tmp_path_factory.mktemp("lrs2") / "main"
    for speaker, clip in (("glasses", A07), ("mapman", A04), ("crop", A11)):
        (root / speaker).mkdir(parents=True)
        (root / speaker / "00001.mp4").symlink_to(shared_media / clip)
    late = root / "glasses" / "00002_late.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(shared_media / A07), "-itsoffset",
         str(LATE_SEC), "-i", str(shared_media / A07), "-map", "0:v", "-map", "1:a",
         "-c:v", "copy", "-c:a", "aac", str(late)],
        check=True,
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def prepared(lrs2_tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared")
    entries = drain(iter_prepare_folder(lrs2_tree, out, FolderSettings(val_fraction=0.5)), False)
    return out, {e.clip_id: e for e in entries}


def test_gate_keeps_realigns_and_drops_with_reasons(prepared):
    out, entries = prepared
    assert entries["glasses__00001"].verdict["action"] == "keep"
    assert entries["mapman__00001"].verdict["action"] == "keep"
    late = entries["glasses__00002_late"].verdict
    assert late["action"] == "realign", late
    # The mux put the audio 0.32 s (8 frames; AAC priming takes ~0.6 frame back) late.
    assert 4 <= late["shift_frames"] <= 10
    crop = entries["crop__00001"]
    assert crop.verdict["action"] == "drop" and "no audio" in crop.verdict["reason"]
    assert crop.npz is None and crop.split == "dropped"
    report = (out / "report.txt").read_text()
    assert "crop__00001" in report and "no audio" in report and "moved into sync" in report


def test_realigned_audio_matches_the_original_recording(prepared):
    out, entries = prepared
    good = ClipData.load(out / entries["glasses__00001"].npz)
    fixed = ClipData.load(out / entries["glasses__00002_late"].npz)
    assert fixed.audio_shift_frames == entries["glasses__00002_late"].verdict["shift_frames"]
    # Independent of the meter: the re-aligned waveform lines up with the in-sync one within
    # the meter's +-2 frames (80 ms, plus a little for AAC priming), where the mux was 0.32 s off.
    n = 16000 * 3
    a, b = good.audio_16k[8000 : 8000 + n], fixed.audio_16k[8000 : 8000 + n]
    lags = range(-1600, 1601, 16)
    corr = [np.dot(a[1600:-1600], np.roll(b, lag)[1600:-1600]) for lag in lags]
    best_lag_ms = abs(list(lags)[int(np.argmax(corr))]) / 16
    assert best_lag_ms <= 100


def test_prepared_clips_carry_crops_landmarks_and_speaker(prepared):
    out, entries = prepared
    clip = ClipData.load(out / entries["mapman__00001"].npz)
    n = len(clip.frames)
    assert n == entries["mapman__00001"].frames >= 100
    assert clip.crops.shape == (n, 96, 96, 3) and clip.landmarks.shape == (n, 478, 2)
    assert clip.speaker == "mapman" and clip.crops.std() > 10


def test_split_holds_out_whole_speakers(prepared):
    out, entries = prepared
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"train": 2, "val": 1, "dropped": 1} or manifest["counts"] == {
        "train": 1, "val": 2, "dropped": 1,
    }  # fmt: skip
    by_speaker = {}
    for e in entries.values():
        if e.npz:
            by_speaker.setdefault(e.speaker, set()).add(e.split)
    assert all(len(s) == 1 for s in by_speaker.values()) and len(by_speaker) == 2
    assert {p.name for p in split_paths(out, "train") + split_paths(out, "val")} == {
        "glasses__00001.npz", "glasses__00002_late.npz", "mapman__00001.npz",
    }  # fmt: skip


def test_a_second_run_resumes_without_redoing_clips(lrs2_tree, prepared):
    out, entries = prepared
    again = iter_prepare_folder(lrs2_tree, out, FolderSettings(val_fraction=0.5))
    stages = [p.stage for p in again]
    assert sum("already prepared" in s for s in stages) == 4
    assert not any("detecting" in s or "cutting" in s for s in stages)
