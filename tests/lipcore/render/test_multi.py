"""Two speakers in one shot: each face re-synced to its own dub, one output with the mixed sound.

The clip is two real frontal talking faces side by side (A05 | A07, first 3 s), so the tracker
finds both faces reliably. What a user checks: the output has the source's size, frame rate and
length; each mouth changes inside its own segment and only there; the background is untouched;
the sound is the mix; nothing is left behind, also when the export is cancelled; an export
after the segments were rendered renders nothing again.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from lipcore.errors import LipsyncError
from lipcore.media.decode import VideoReader
from lipcore.media.probe import probe
from lipcore.render.pipeline import EDGE_BLEND_FRAMES
from lipcore.render.request import FaceChoice, RenderRequest, SegmentSpec

LEFT = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"
RIGHT = "video/A07_frontal_woman_glasses_524p25_retalking5.mp4"
DUB_LEFT = "audio/B19_en_48k_retalking2.wav"
DUB_RIGHT = "audio/B01_en_hdtf_RD_Radio31_16k.wav"
FRAMES = 75  # 3 s at 25 fps
SEG_LEFT = (10, 45)
SEG_RIGHT = (40, 70)
RIGHT_GAIN_DB = -6.0


def make_two_face_clip(shared_media: Path, out: Path, frames: int = FRAMES) -> Path:
    """Side-by-side clip of two frontal speakers (320x320 each), with the left one's audio."""
    graph = (
        f"[0:v]trim=end_frame={frames},setpts=PTS-STARTPTS,scale=320:320[a];"
        f"[1:v]trim=end_frame={frames},setpts=PTS-STARTPTS,scale=320:320[b];"
        f"[a][b]hstack=inputs=2[v];[0:a]atrim=end={frames / 25},asetpts=PTS-STARTPTS[au]"
    )
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(shared_media / LEFT),
         "-i", str(shared_media / RIGHT), "-filter_complex", graph, "-map", "[v]", "-map", "[au]",
         "-c:v", "libx264", "-crf", "14", "-preset", "veryfast", "-pix_fmt", "yuv420p",
         "-r", "25", "-c:a", "aac", str(out)],
        check=True,
    )  # fmt: skip
    return out


def _faces(tracks):
    """(left track, right track) by box centre."""
    by_x = sorted(tracks.tracks, key=lambda t: float(np.mean(t.boxes[:, 0] + t.boxes[:, 2])))
    return by_x[0], by_x[-1]


@pytest.fixture(scope="module")
def scene(shared_media, tmp_path_factory):
    from lipcore.face.track import track_faces

    src_dir = tmp_path_factory.mktemp("src")
    clip = make_two_face_clip(shared_media, src_dir / "two.mp4")
    tracks = track_faces(clip)
    assert len(tracks.tracks) >= 2, "the tracker must find both faces of the side-by-side clip"
    left, right = _faces(tracks)
    passes = [
        RenderRequest(
            clip, shared_media / DUB_LEFT, Path("unused.mp4"), FaceChoice(left.track_id),
            (SegmentSpec(*SEG_LEFT),),
        ),
        RenderRequest(
            clip, shared_media / DUB_RIGHT, Path("unused.mp4"), FaceChoice(right.track_id),
            (SegmentSpec(*SEG_RIGHT), ), audio_offset_samples=8000,
        ),
    ]  # fmt: skip
    return clip, tracks, left, right, passes


@pytest.fixture(scope="module")
def rendered(scene, tmp_path_factory):
    from lipcore.render.multi import MixTrack, mix_audio_tracks, render_speakers

    clip, tracks, _left, _right, passes = scene
    out_dir = tmp_path_factory.mktemp("out")
    mix = mix_audio_tracks(
        [MixTrack(passes[0].audio), MixTrack(passes[1].audio, 8000, RIGHT_GAIN_DB)],
        FRAMES * 48000 // 25,
    )
    out = out_dir / "two_dubbed.mp4"
    chunks = tmp_path_factory.mktemp("chunks")
    result = render_speakers(passes, out, mix, tracks=tracks, show_progress=False, chunks=chunks)
    return out, result, mix


def _mouth_box(track, frame: int) -> tuple[slice, slice]:
    x0, y0, x1, y1 = track.boxes[track.index_of(frame)]
    w, h = x1 - x0, y1 - y0
    return slice(int(y0 + 0.62 * h), int(y1)), slice(int(x0 + 0.2 * w), int(x1 - 0.2 * w))


def _far_mask(tracks, shape, margin_px: int = 40) -> np.ndarray:
    mask = np.ones(shape[:2], bool)
    for t in tracks.tracks:
        x0, y0 = (t.boxes[:, :2].min(0) - margin_px).astype(int).clip(0)
        x1, y1 = (t.boxes[:, 2:].max(0) + margin_px).astype(int)
        mask[y0:y1, x0:x1] = False
    return mask


def test_output_keeps_the_source_format(scene, rendered):
    clip = scene[0]
    out, result, _ = rendered
    s, o = probe(clip), probe(out)
    assert (o.video.width, o.video.height) == (s.video.width, s.video.height) == (640, 320)
    assert o.video.fps == s.video.fps
    assert o.video.frame_count == s.video.frame_count == result.frame_count == FRAMES
    assert len(result.passes) == 2
    assert result.frames_changed >= (SEG_LEFT[1] - SEG_LEFT[0]) + (SEG_RIGHT[1] - SEG_RIGHT[0]) - 4


def test_each_mouth_changes_in_its_own_segment_only(scene, rendered):
    clip, tracks, left, right, _ = scene
    out, _, _ = rendered
    with VideoReader(clip) as a, VideoReader(out) as b:
        pairs = [
            (fa, fb) for (_, fa), (_, fb) in zip(a.iter_frames(), b.iter_frames(), strict=True)
        ]
    far = _far_mask(tracks, pairs[0][0].shape)
    assert far.mean() > 0.1  # enough background to judge
    for track, (s0, s1) in ((left, SEG_LEFT), (right, SEG_RIGHT)):
        inside, outside, full = [], [], []
        for i, (fa, fb) in enumerate(pairs):
            if track.index_of(i) is None:
                continue
            ys, xs = _mouth_box(track, i)
            diff = np.abs(fa[ys, xs].astype(np.int16) - fb[ys, xs].astype(np.int16)).mean()
            (inside if s0 <= i < s1 else outside).append(diff)
            # Away from the segment's edges, where the new mouth fades in and out by design
            if s0 + EDGE_BLEND_FRAMES <= i < s1 - EDGE_BLEND_FRAMES:
                full.append(diff)
        # One encode (chunks are lossless) moves an untouched mouth by ~2 levels on average
        # (the old chain of a ProRes intermediate, then H.264: ~3.4); a new mouth, even resting
        # in the dub's pauses, moves it by more on nearly every frame.
        assert np.mean(outside) < 3.0, (track.track_id, np.mean(outside))
        assert np.mean(inside) > 1.6 * np.mean(outside), (track.track_id, np.mean(inside))
        # Retime re-uses the actor's own mouths, so on some voiced frames the new mouth is close
        # to the original one (0.83 of the frames clearly changed with a face detection on every
        # frame, 0.5-0.6 with keyframe tracking, whose landmarks differ by ~0.02 eye distances).
        assert np.mean(np.array(full) > max(outside) + 0.5) > 0.4, track.track_id
    errors = [np.abs(fa[far].astype(np.float64) - fb[far]) for fa, fb in pairs]
    psnr = 10 * np.log10(255.0**2 / np.mean([np.mean(e**2) for e in errors]))
    assert psnr > 36.0, psnr  # measured 37.6 dB
    assert max(np.percentile(e, 99) for e in errors) <= 10


def test_audio_is_the_mix(rendered):
    from lipcore.media.audio import clip_audio

    out, _, mix = rendered
    got = clip_audio(out, 48000)
    n = min(len(got), len(mix))
    assert abs(len(got) - len(mix)) < 48000 // 25
    corr = float(np.corrcoef(got[:n], mix[:n])[0, 1])
    assert corr > 0.95, corr


def test_no_temp_files_are_left(rendered):
    out, _, _ = rendered
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


def test_cancel_leaves_neither_output_nor_temp_files(scene, tmp_path):
    from lipcore.render.multi import iter_render_speakers

    clip, tracks, _, _, passes = scene
    out = tmp_path / "cancelled.mp4"
    gen = iter_render_speakers(passes, out, passes[0].audio, tracks=tracks, chunks=tmp_path / "c")
    seen_writing = False
    for step in gen:
        if step.stage == "writing" and step.done > 10:
            seen_writing = True  # both speakers' chunks are done, the output is half written
            break
    gen.close()
    assert seen_writing
    assert [p.name for p in tmp_path.iterdir()] == ["c"]  # only the finished chunks stay
    assert len(list((tmp_path / "c").glob("*.lschunk"))) == 2


def test_same_face_twice_on_overlapping_frames_is_refused(scene, tmp_path):
    from dataclasses import replace

    from lipcore.render.multi import iter_render_speakers

    _, tracks, left, _, passes = scene
    clash = [passes[0], replace(passes[1], face=FaceChoice(left.track_id))]
    with pytest.raises(LipsyncError, match="both re-sync face"):
        next(iter_render_speakers(clash, tmp_path / "x.mp4", passes[0].audio, tracks=tracks))
    assert list(tmp_path.iterdir()) == []


def test_mix_applies_offset_and_gain(shared_media):
    from lipcore.media.audio import load_audio
    from lipcore.render.multi import MixTrack, mix_audio_tracks

    dub = shared_media / DUB_RIGHT
    ref = load_audio(dub, 48000)
    total = 2 * 48000
    mixed = mix_audio_tracks([MixTrack(dub, 16000, -6.0)], total)  # starts 1 s in, half level
    assert mixed.shape == (total,)
    assert np.abs(mixed[:48000]).max() == 0.0
    np.testing.assert_allclose(mixed[48000:], ref[:48000] * 10 ** (-6 / 20), atol=1e-5)


def test_a_second_export_reuses_the_chunks_and_writes_prores(scene, rendered, tmp_path):
    """Nothing changed since the first export: no segment is rendered again, one pass writes."""
    from lipcore.progress import drain
    from lipcore.render.multi import iter_render_speakers

    clip, tracks, _, _, passes = scene
    out = tmp_path / "again.mov"
    stages: list[str] = []

    def watched():
        store = rendered[1].chunks[0].parent
        gen = iter_render_speakers(passes, out, passes[0].audio, tracks=tracks, chunks=store)
        try:
            while True:
                step = next(gen)
                stages.append(step.stage)
                yield step
        except StopIteration as stop:
            return stop.value

    result = drain(watched(), show=False)
    assert result.rendered_segments == 0 and not any("rendering" in s for s in stages)
    assert result.chunks == rendered[1].chunks
    info = probe(out)
    assert info.video.codec == "prores" and info.video.frame_count == FRAMES == result.frame_count
    assert info.audio is not None and info.audio.codec.startswith("pcm")
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_stereo_dub_stays_stereo_when_asked(shared_media, tmp_path):
    import subprocess

    from lipcore.media.audio import load_audio
    from lipcore.render.multi import MixTrack, mix_audio_tracks

    left, right = shared_media / DUB_RIGHT, next((shared_media / "audio").glob("B19_*"))
    stereo = tmp_path / "stereo.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(left), "-i", str(right), "-filter_complex",
         "[0:a]aformat=fltp:48000:mono[l];[1:a]aformat=fltp:48000:mono[r];[l][r]amerge,atrim=0:2",
         "-ac", "2", str(stereo)],
        check=True,
    )  # fmt: skip
    total = 48000
    mixed = mix_audio_tracks([MixTrack(stereo)], total, channels=2)
    assert mixed.shape == (total, 2)
    for side, voice in ((0, left), (1, right)):
        heard = load_audio(voice, 48000)[:total]
        assert np.corrcoef(mixed[:, side], heard)[0, 1] > 0.99, "each voice on its own side"
    assert np.corrcoef(mixed[:, 0], mixed[:, 1])[0, 1] < 0.5, "two different voices, not mono"
    assert mix_audio_tracks([MixTrack(stereo)], total).shape == (total,)
