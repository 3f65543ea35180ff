"""SMPTE timecode in the window: transport label, ruler header and inspector, with the clip's
own drop-frame start timecode (a conformed reel starting at 00:00:59;28 at 29.97)."""

from __future__ import annotations

import subprocess

CLIP = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"


def test_timecode_shows_the_clips_drop_frame_start(make_window, qtbot, shared_media, tmp_path):
    clip = tmp_path / "reel.mov"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(shared_media / CLIP),
            "-t",
            "1.5",
            "-vf",
            "scale=160:-2,setpts=N/(30000/1001)/TB",
            "-r",
            "30000/1001",
            "-c:v",
            "mpeg4",
            "-q:v",
            "3",
            "-c:a",
            "aac",
            "-timecode",
            "00:00:59;28",
            str(clip),
        ],
        check=True,
    )
    w = make_window()
    with qtbot.waitSignal(w.frame_shown, timeout=20000):
        assert w.open_video(clip)
    w.playback.seek(2)  # 00:00:59;28 + 2 frames: ;00 and ;01 of minute 1 do not exist
    qtbot.waitUntil(lambda: w.timecode_label.text().startswith("00:01:00;02"), timeout=5000)
    assert w.timeline.canvas._timecode() == "00:01:00;02"
    seg = w.document.add_segment(2, 32)
    w.inspector.show_segment(w.document.project, w.document.project.segment(seg))
    assert w.inspector.range_label.text().startswith("00:01:00;02 – 00:01:01;02")


def test_import_script_menu_makes_segments_with_text_and_line_tracks(
    make_window, qtbot, shared_media, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(shared_media / CLIP),
            "-t",
            "3",
            "-vf",
            "scale=160:-2",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            str(clip),
        ],
        check=True,
    )
    (tmp_path / "s.vtt").write_text(
        "WEBVTT\n\n00:00.200 --> 00:01.000\n<v Eva>Guten Tag\n\n"
        "00:01.400 --> 00:02.400\n<v Eva>und willkommen\n"
    )
    lines = tmp_path / "lines"
    lines.mkdir()
    for i, sec in ((1, 1.1), (2, 0.9)):  # line 1's take is 0.3 s longer than its slot
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=300:duration={sec}",
                str(lines / f"{i:04d}.wav"),
            ],
            check=True,
        )
    w = make_window()
    with qtbot.waitSignal(w.frame_shown, timeout=20000):
        assert w.open_video(clip)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "s.vtt"), "")
    )
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(lines))
    w.script_action.trigger()
    segs = w.document.project.sorted_segments()
    assert [(s.start_frame, s.end_frame, s.text, s.speaker) for s in segs] == [
        (5, 25, "Guten Tag", "Eva"),
        (35, 60, "und willkommen", "Eva"),
    ]
    assert [t.name for t in w.document.project.audio_tracks][-2:] == ["Line 1", "Line 2"]
    labels = [item.label for item in w.timeline.canvas.segments]
    assert labels[0].startswith("▲ take +0.30 s over") and labels[1] == "und willkommen"
    w.undo_action.trigger()  # one undo step removes the whole import
    assert w.document.project.segments == []
