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


def test_preview_mix_file_holds_the_samples_of_the_one_mixer(clip_3s, dub_wav, tmp_path):
    from lipcore.render.mix import mix_tracks

    # The clip's own sound under a dub raised 12 dB: the sum clips, so the mix is scaled.
    tracks = [(None, 0, 0.0), (str(dub_wav), 8000, 12.0)]
    out = tmp_path / "mix.wav"
    drain(iter_preview_mix(clip_3s, tracks, 75, 25.0, out), show=False)
    whole = mix_tracks(tracks, 3 * MIX_RATE, MIX_RATE, clip=clip_3s)
    assert np.abs(whole).max() <= 1.0
    expected = tmp_path / "expected.wav"
    soundfile.write(expected, whole, MIX_RATE, subtype="PCM_16")  # what the player got before
    got, rate = soundfile.read(out, dtype="int16")
    want, _ = soundfile.read(expected, dtype="int16")
    assert rate == MIX_RATE and soundfile.info(out).subtype == "PCM_16"
    assert np.array_equal(got, want)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "temp left"


def test_preview_mix_memory_does_not_grow_with_the_clip(clip_3s, dub_wav, tmp_path):
    import tracemalloc

    # Ten minutes of picture (a long lecture): as one float array the mix alone is 110 MB.
    frames = 25 * 600
    out = tmp_path / "long.wav"
    tracemalloc.start()
    try:
        drain(iter_preview_mix(clip_3s, [(str(dub_wav), 0, 0.0)], frames, 25.0, out), show=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    info = soundfile.info(out)
    assert info.frames == 600 * MIX_RATE and info.samplerate == MIX_RATE
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MiB traced while mixing"
    tail, _ = soundfile.read(out, start=info.frames - MIX_RATE)
    assert np.abs(tail).max() == 0  # the 5-s dub ended long before
