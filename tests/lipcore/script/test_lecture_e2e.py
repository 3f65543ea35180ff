"""The lecture scenario end to end on a shared clip.

A three-line SRT whose second TTS line is 30 % too long for its slot, fixed by each timing
strategy in turn. Judged independently of the planner: voice activity on the final dub says
where each line's speech really is, YIN says the sped-up line kept its pitch, decoded frames say
the picture was held, blended or padded, and (slow tests) the lip re-sync changed the lines'
frames of the final video.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lipcore.audio.vad import speech_ranges
from lipcore.media.decode import VideoReader
from lipcore.progress import drain
from lipcore.script.conform import conform_audio, iter_conform_picture, iter_script_render
from lipcore.script.fit import fit_check
from lipcore.script.lines import TAKE_RATE_HZ, takes_from_folder
from lipcore.script.strategies import TimingCaps, plan_timing
from lipcore.script.subtitles import read_script

CLIP = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"  # 8.06 s, 25 fps, 201 frames
FPS = Fraction(25)
FRAMES = 201


def _ms(ms: int) -> str:
    return f"00:00:{ms // 1000:02d},{ms % 1000:03d}"


@pytest.fixture(scope="module")
def lecture(tts_lines, tmp_path_factory):
    """(script lines, takes): line 2's slot is its take's length / 1.3."""
    from lipcore.script.subtitles import ScriptLine

    probe_lines = [ScriptLine(i, 0, 1, "") for i in (1, 2, 3)]
    takes = takes_from_folder(tts_lines, probe_lines)
    end2 = 2500 + round(takes[2].duration_ms / 1.3)
    srt = tmp_path_factory.mktemp("lecture") / "lecture.srt"
    srt.write_text(
        f"1\n{_ms(300)} --> {_ms(2200)}\nWelcome to the lecture.\n\n"
        f"2\n{_ms(2500)} --> {_ms(end2)}\nLECTURER: Today we see how sound becomes speech.\n\n"
        f"3\n{_ms(6200)} --> {_ms(7400)}\nThank you.\n"
    )
    lines = read_script(srt)
    return lines, takes_from_folder(tts_lines, lines)


def _speech_frames(dub: np.ndarray) -> list[tuple[float, float]]:
    step = TAKE_RATE_HZ // 16000
    runs = speech_ranges(dub[::step], 16000, pad_sec=0.0, min_gap_sec=0.25)
    return [(a / 16000 * float(FPS), b / 16000 * float(FPS)) for a, b in runs]


def _f0_hz(samples: np.ndarray) -> float:
    import librosa

    f0 = librosa.yin(samples, fmin=60, fmax=400, sr=TAKE_RATE_HZ, frame_length=2048)
    return float(np.median(f0))


def test_the_long_line_is_thirty_percent_over(lecture):
    lines, takes = lecture
    report = fit_check(lines, takes, clip_end_ms=8040)
    assert [r.status for r in report.rows] == ["fits", "over", "fits"]
    assert report.rows[1].ratio == pytest.approx(1.30, abs=0.01)
    assert report.total_overflow_ms == pytest.approx(0.3 / 1.3 * takes[2].duration_ms, abs=2)


@pytest.mark.parametrize("strategy", ["speedup", "gap", "slow_picture", "pad"])
def test_each_strategy_makes_every_line_fit(lecture, shared_media, tmp_path, strategy):
    lines, takes = lecture
    plan = plan_timing(lines, takes, FPS, FRAMES, strategy)
    assert [t.strategy for t in plan.lines] == ["none", strategy, "none"]
    assert plan.total_residual_ms == 0
    dub = conform_audio(plan, takes)
    runs = _speech_frames(dub)
    assert len(runs) == 3, runs
    for k, (t, (a, b)) in enumerate(zip(plan.lines, runs, strict=True)):
        lo, hi = t.out_take_frames
        assert lo - 0.5 <= a and b <= hi + 0.5, (t, a, b)  # the speech is where it was planned
        if k + 1 < len(runs):
            assert b < runs[k + 1][0]  # and never runs into the next line
    line2 = plan.lines[1]
    if strategy == "speedup":
        assert line2.speed == pytest.approx(1.30, abs=0.01)
        sped = dub[line2.out_take_start_sample :][: round(len(takes[2].samples) / line2.speed)]
        assert _f0_hz(sped) == pytest.approx(_f0_hz(takes[2].samples), rel=0.06)  # pitch kept
    if strategy == "gap":
        assert runs[1][1] > line2.slot_frames[1]  # the take runs on into the silence after
    if strategy in ("slow_picture", "pad"):
        assert plan.output_frames > FRAMES
        out = drain(
            iter_conform_picture(shared_media / CLIP, plan, tmp_path / "picture.mp4"), show=False
        )
        a, b = line2.slot_frames
        with VideoReader(shared_media / CLIP) as src, VideoReader(out) as pic:
            assert pic.frame_count == plan.output_frames
            if strategy == "pad":
                held = [
                    pic.read(line2.out_start_frame + (b - a) + j).astype(np.float32)
                    for j in (0, 3)
                ]
                assert np.abs(held[0] - held[1]).mean() < 0.5  # one frame, held
                to_last = np.abs(held[0] - src.read(b - 1)).mean()
                assert to_last < 3.0 and to_last < np.abs(held[0] - src.read(b - 2)).mean() - 1
            else:
                k = next(i for i in range(*line2.out_take_frames) if 0.3 < plan.picture_map[i] % 1)
                p = plan.picture_map[k]
                mix = (1 - p % 1) * src.read(int(p)) + (p % 1) * src.read(int(p) + 1)
                assert np.abs(pic.read(k) - mix).mean() < 2.5  # a blended frame


def test_caps_leave_a_reported_residual(lecture):
    lines, takes = lecture
    plan = plan_timing(lines, takes, FPS, FRAMES, "speedup", TimingCaps(max_speedup=1.1))
    assert plan.lines[1].speed == 1.1
    over = takes[2].duration_ms / 1.1 - plan.lines[1].allowed_ms
    assert plan.lines[1].residual_ms == pytest.approx(over, abs=0.2) and over > 100


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["speedup", "gap", "slow_picture", "pad"])
def test_lips_are_resynced_to_the_final_dub(lecture, shared_media, tmp_path, strategy):
    lines, takes = lecture
    small = tmp_path / "a01_256.mp4"  # a quarter of the pixels keeps four renders affordable
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(shared_media / CLIP),
            "-vf",
            "scale=256:256",
            "-c:v",
            "libx264",
            "-crf",
            "12",
            "-c:a",
            "aac",
            str(small),
        ],
        check=True,
    )
    with VideoReader(small) as reader:
        frames = reader.frame_count  # the re-encode may end a frame short of the source
    plan = plan_timing(lines, takes, FPS, frames, strategy)
    result = drain(iter_script_render(small, plan, takes, tmp_path / "out.mp4"), show=False)
    assert result.frames_changed == sum(t.out_slot_frames for t in plan.lines)
    with VideoReader(result.output) as out:
        assert out.frame_count == plan.output_frames
    assert Path(result.dub).is_file()
