"""Long clips keep memory flat: the export mix, decoded audio, track landmarks, footage crops.

Each piece that used to hold a whole clip's worth of data is checked two ways: it gives the same
numbers as the whole-array computation (on real shared media), and its memory (``tracemalloc``,
which numpy reports its buffers to) does not grow with the length of synthetic long audio.
"""

from __future__ import annotations

import tracemalloc
from fractions import Fraction

import numpy as np
import pytest
import soundfile

from lipcore.audio.features import frame_rms, spectral_features
from lipcore.audio.vad import pause_ratio
from lipcore.media.audio import clip_audio, iter_audio, load_audio
from lipcore.media.sample_file import SampleFile, clip_file, has_sound, speech_file
from lipcore.render.mix import MixTrack, load_speech, mix_tracks, write_mix_wav
from lipcore.scratch import release_pages, save_rows, scratch_array

CLIP = "video/A04_frontal_man_mapbg_844p25_retalking2.mp4"
H01 = "video/H01_multiface_profile_lowlight_cuts_640x360_hamilton_facerecognition.mp4"
DUB = "audio/B21_en_16k_20s_latentsync_demo2.wav"
MP3 = "audio/B24_en_abstract_48k_33s_iplap.mp3"
LOUD = "audio/B13_singing_imagine_48k_s24.wav"


def _whole_array_mix(tracks, total, rate, clip, channels):
    """The mix as the whole-array mixer made it: every track loaded, placed and added at once."""
    mono = channels == 1
    out = np.zeros((total,) if mono else (total, 2), np.float32)
    for t in tracks:
        gain = np.float32(10.0 ** (t.gain_db / 20.0))
        if t.path is None:
            samples, offset = (
                clip_audio(clip, rate, mono=mono, max_channels=None if mono else 2),
                0,
            )
        else:
            samples = load_speech(t.path, rate, mono=mono)
            offset = int(round(t.offset_samples * rate / 16000))
        src0, dst0 = max(0, -offset), max(0, offset)
        n = min(len(samples) - src0, total - dst0)
        part = samples[src0 : src0 + n]
        if not mono and (part.ndim == 1 or part.shape[1] != 2):
            part = part.reshape(len(part), -1)[:, :1]
        out[dst0 : dst0 + n] += gain * part
    peak = float(np.abs(out).max())
    if peak > 1.0:
        out /= np.float32(peak)
    return out


@pytest.mark.parametrize(
    "case",
    [
        # a dub late by 0.6 s over the ducked clip sound, stereo (the export's mix)
        ((DUB, 9600, 0.0), (None, 0, -12.04), CLIP, 2, 48000 * 12),
        # a video file as the dub (its audio leads its picture), early by 0.5 s, mono
        ((H01, -8000, 0.0), None, None, 1, 48000 * 6),
        # loud enough to clip: scaled in a second pass over the file
        ((LOUD, 0, 12.0), (MP3, 20000, 6.0), None, 2, 48000 * 10),
    ],
)
def test_streamed_mix_equals_the_whole_array_mix(shared_media, tmp_path, case):
    first, second, clip, channels, total = case
    tracks = [MixTrack(shared_media / first[0], first[1], first[2])]
    if second is not None:
        path = None if second[0] is None else shared_media / second[0]
        tracks.append(MixTrack(path, second[1], second[2]))
    clip_path = None if clip is None else shared_media / clip
    expected = _whole_array_mix(tracks, total, 48000, clip_path, channels)
    got = mix_tracks(tracks, total, 48000, clip=clip_path, channels=channels)
    assert np.array_equal(got, expected)
    # Odd block sizes: the blocks of the tracks and of the mix never line up.
    wav = write_mix_wav(
        tmp_path / "mix.wav", tracks, total, 48000, clip_path, channels, block_samples=77_777
    )
    written, rate = soundfile.read(wav, dtype="float32", always_2d=channels == 2)
    assert rate == 48000
    assert np.array_equal(written, expected)


def _long_speech_wav(path, minutes: float):
    """Synthetic speech-like sound (syllable bursts of noise and tones) at 16 kHz."""
    rate = 16000
    t = np.arange(int(minutes * 60 * rate)) / rate
    rng = np.random.default_rng(0)
    envelope = (np.sin(2 * np.pi * 4.0 * t) > 0.2).astype(np.float32)
    sound = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(len(t))
    soundfile.write(path, (envelope * sound).astype(np.float32), rate, subtype="PCM_16")
    return path


def _peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_the_mix_writer_holds_the_same_memory_for_any_length(tmp_path):
    short = _long_speech_wav(tmp_path / "short.wav", 1.5)
    long = _long_speech_wav(tmp_path / "long.wav", 6.0)

    def write(src, minutes):
        total = int(minutes * 60 * 48000)
        write_mix_wav(tmp_path / "mix.wav", [MixTrack(src, 800)], total, 48000, channels=2)

    peak_short = _peak_mb(lambda: write(short, 1.5))
    peak_long = _peak_mb(lambda: write(long, 6.0))
    whole_long = 6.0 * 60 * 48000 * 2 * 4 / 2**20  # the 6-minute stereo mix as one array: 132 MB
    print(f"mix writer peak: 1.5 min {peak_short:.1f} MB, 6 min {peak_long:.1f} MB")
    assert peak_long < 1.2 * peak_short + 2.0
    assert peak_long < 0.25 * whole_long


def test_decoded_audio_streams_as_the_whole_file_decodes(shared_media):
    # An mp3's codec padding is held back and dropped exactly as the whole-file decode drops it.
    for name, kwargs in ((MP3, {"mono": False, "max_channels": 2}), (CLIP, {"mono": True})):
        whole = load_audio(shared_media / name, 48000, **kwargs)
        blocks = list(iter_audio(shared_media / name, 48000, block_samples=10_001, **kwargs))
        assert np.array_equal(np.concatenate(blocks), whole)


def test_sample_files_equal_the_loaded_arrays(shared_media):
    for name in (DUB, MP3, H01):
        assert np.array_equal(np.asarray(speech_file(shared_media / name, 16000)),
                              load_speech(shared_media / name, 16000))  # fmt: skip
    for name in (CLIP, H01):
        whole = clip_audio(shared_media / name, 16000)
        on_disk = clip_file(shared_media / name, 16000)
        assert len(on_disk) == len(whole) and on_disk.shape == whole.shape
        assert np.array_equal(on_disk[1000:5000], whole[1000:5000])
        assert np.array_equal(on_disk[len(whole) - 10 : len(whole) + 10], whole[-10:])
        assert on_disk[-1] == whole[-1] and has_sound(on_disk)
        if name != CLIP:
            continue
        # The analyses read it block by block and give the numbers the array gives.
        n, fps = int(len(whole) * 25 / 16000) + 5, Fraction(25)
        assert pause_ratio(on_disk) == pause_ratio(whole)
        assert np.array_equal(spectral_features(on_disk, fps, n), spectral_features(whole, fps, n))
        rows = np.arange(n)
        assert np.array_equal(frame_rms(on_disk, rows, fps), frame_rms(whole, rows, fps))


def test_analysing_a_long_sample_file_holds_a_few_blocks(tmp_path):
    def analyse(minutes):
        audio = speech_file(_long_speech_wav(tmp_path / f"{minutes}.wav", minutes), 16000)
        n = int(minutes * 60 * 25)

        def run():
            pause_ratio(audio)
            spectral_features(audio, Fraction(25), n)

        return _peak_mb(run), len(audio) * 4 / 2**20

    short, _ = analyse(1.5)
    long, samples_mb = analyse(6.0)
    print(f"analysis peak: 1.5 min {short:.1f} MB, 6 min {long:.1f} MB ({samples_mb:.0f} MB)")
    # The samples grew by 16 MB and the features (72 floats a frame) by 2 MB; what the analysis
    # holds besides is a few blocks of windows and spectra, whatever the length (the
    # whole-array pause ratio alone held 14 bytes of spectra per sample: 300 MB here).
    assert long < short + 6.0


def test_scratch_arrays_leave_no_file_and_save_like_numpy(tmp_path):
    crops = scratch_array((130, 16, 16, 3), np.uint8, folder=str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # unlinked at once: it goes with the array
    crops[:] = np.random.default_rng(1).integers(0, 255, crops.shape, dtype=np.uint8)
    release_pages(crops)  # the data survives giving the pages back
    save_rows(tmp_path / "rows.npy", crops)
    np.save(tmp_path / "numpy.npy", np.asarray(crops))
    assert (tmp_path / "rows.npy").read_bytes() == (tmp_path / "numpy.npy").read_bytes()
    assert isinstance(SampleFile(iter([np.ones(3, np.float32)]), 16000)[0:2], np.ndarray)


def test_cached_tracks_map_their_landmarks(shared_media, tmp_path):
    from lipcore.face.store import load_trackset, save_trackset
    from lipcore.face.track import TrackerSettings, track_faces
    from lipcore.render.chunks import track_digest
    from lipcore.render.footage import align_track

    # The first 40 frames are enough; what comes back is the cache's copy: landmarks mapped.
    tracks = track_faces(shared_media / CLIP, TrackerSettings(end_frame=40))
    assert isinstance(tracks.tracks[0].landmarks, np.memmap)
    entry = tmp_path / "tracks.npz"
    save_trackset(entry, tracks)
    loaded, mapped = load_trackset(entry), load_trackset(entry, mapped=True)
    for a, b in zip(loaded.tracks, mapped.tracks, strict=True):
        assert isinstance(b.landmarks, np.memmap) and not b.landmarks.flags.writeable
        assert np.array_equal(a.landmarks, b.landmarks)
        assert track_digest(a) == track_digest(b)
        assert np.array_equal(align_track(a).transforms, align_track(b).transforms)


def test_a_full_disk_keeps_samples_in_memory_and_scratch_fails_cleanly(tmp_path):
    """A write that fails part-way (EFBIG at a file-size limit, as ENOSPC on a full disk): the
    samples come out whole from memory, a scratch array falls back to memory, and saving rows
    raises ``OSError`` (a mapped file on a full disk would otherwise die of SIGBUS) and leaves
    no file."""
    import resource
    import signal

    rng = np.random.default_rng(3)
    blocks = [rng.standard_normal(n).astype(np.float32) for n in (3001, 5000, 7003, 11)]
    whole = np.concatenate(blocks)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (30_001, hard))  # mid-way through block 2
        samples = SampleFile(iter(blocks), 16000)
        crops = scratch_array((100, 64, 64, 3), np.uint8, folder=str(tmp_path))  # 1.2 MB
        with pytest.raises(OSError):
            save_rows(tmp_path / "rows.npy", np.ones((100, 64, 64, 3), np.uint8))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    assert len(samples) == len(whole) and np.array_equal(np.asarray(samples), whole)
    assert np.array_equal(samples[2999:3003], whole[2999:3003])
    assert not isinstance(crops, np.memmap) and crops.shape == (100, 64, 64, 3)
    assert list(tmp_path.iterdir()) == []
