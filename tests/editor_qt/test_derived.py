"""Derived data for the views, computed by the generators the low-priority queue runs."""

from __future__ import annotations

import numpy as np
import soundfile

from editor.qt.derived import MIX_RATE, envelope, iter_preview_mix, iter_thumbnails, iter_waveform
from lipcore.progress import drain


def test_thumbnails_are_evenly_spaced_frames_of_the_clip(clip_3s):
    thumbs = drain(iter_thumbnails(clip_3s, count=10, height_px=48), show=False)
    frames = [f for f, _ in thumbs]
    assert frames[0] == 0 and frames[-1] == 74 and len(frames) == 10
    assert all(img.shape == (48, 48, 3) and img.dtype == np.uint8 for _, img in thumbs)
    assert thumbs[0][1].std() > 10, "a real picture, not a blank frame"


def test_waveform_envelope_follows_speech_and_silence():
    rate = 8000
    signal = np.zeros(rate * 2, np.float32)
    signal[rate // 2 : rate] = 0.5 * np.sin(np.arange(rate // 2) * 0.3)
    peaks = envelope(signal, rate, peaks_per_sec=100)
    assert peaks.shape == (200, 2)
    assert np.abs(peaks[:40]).max() == 0
    assert peaks[60:90, 1].min() > 0.5 and peaks[60:90, 0].max() < -0.5


def test_clip_waveform_and_preview_mix_on_the_clip_clock(clip_3s, dub_wav, tmp_path):
    peaks, per_sec = drain(iter_waveform(clip_3s, is_clip=True), show=False)
    assert abs(len(peaks) / per_sec - 3.0) < 0.05
    out = tmp_path / "mix.wav"
    offset_16k = 16000  # the dub starts 1 s into the clip
    drain(iter_preview_mix(clip_3s, [(str(dub_wav), offset_16k, 0.0)], 75, 25.0, out), show=False)
    mix, rate = soundfile.read(out)
    assert rate == MIX_RATE and len(mix) == 3 * MIX_RATE
    assert np.abs(mix[: MIX_RATE - 10]).max() == 0, "silence before the dub's offset"
    assert np.abs(mix[MIX_RATE:]).max() > 0.05


def test_entry_point_parses_paths_and_loads_the_dark_theme():
    from editor.__main__ import _parse_args, load_stylesheet

    args = _parse_args(["clip.mp4", "dub.wav"])
    assert [p.name for p in args.paths] == ["clip.mp4", "dub.wav"]
    qss = load_stylesheet()
    assert "QToolBar" in qss and "@ICONS@" not in qss
