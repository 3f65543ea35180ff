"""Script and cut imports: segments with text and speaker, takes on their slots, one undo step."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import pytest

from editor.model.document import Document
from lipcore.interchange.cut import Cut, CutEvent
from lipcore.interchange.formats import write_cut
from lipcore.project import SAMPLE_RATE_HZ
from tests.editor_model.test_document import roundtrip, state

SRT = (
    "1\n00:00:00,100 --> 00:00:00,600\nANNA: Hallo zusammen\n\n"
    "2\n00:00:00,800 --> 00:00:01,400\nwillkommen\n"
)


def _tone(path, seconds: float) -> None:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=300:duration={seconds}:sample_rate=16000",
            str(path),
        ],
        check=True,
    )


def test_import_script_with_line_takes_is_one_undo_step(doc: Document, tmp_path):
    (tmp_path / "s.srt").write_text(SRT)
    takes = tmp_path / "takes"
    takes.mkdir()
    _tone(takes / "0001.wav", 0.4)
    _tone(takes / "0002.wav", 0.7)
    n_tracks = len(doc.project.audio_tracks)
    ids = roundtrip(doc, lambda: doc.import_script(tmp_path / "s.srt", [takes]), "Import script")
    segs = [doc.project.segment(i) for i in ids]
    assert [(s.start_frame, s.end_frame) for s in segs] == [(2, 15), (20, 35)]
    assert [(s.text, s.speaker) for s in segs] == [("Hallo zusammen", "Anna"), ("willkommen", "")]
    assert len(doc.project.audio_tracks) == n_tracks + 2
    for seg, start_ms in zip(segs, (100, 800), strict=True):
        track = doc.project.track(seg.audio_track_id)
        assert track.name.startswith("Line ")
        assert track.offset_samples == start_ms * SAMPLE_RATE_HZ // 1000  # the take on its slot
    # text and speaker survive save and load
    doc.save(tmp_path / "p.lsproj")
    again = Document.load(tmp_path / "p.lsproj")
    assert state(again) == state(doc)
    assert [again.project.segment(i).speaker for i in ids] == ["Anna", ""]


def test_segments_from_an_edit_list(doc: Document, tmp_path):
    fps = Fraction(25)
    events = tuple(
        CutEvent(f"c{i}", f"LS{i:04d}", tmp_path / f"c{i}.mov", a, b - a, a, b, a)
        for i, (a, b) in enumerate([(5, 12), (30, 44)], start=1)
    )
    write_cut(Cut("cut", fps, False, 0, events), "edl", tmp_path / "cut.edl")
    ids = roundtrip(doc, lambda: doc.segments_from_cut(tmp_path / "cut.edl"), "Segments from cut")
    assert [
        (doc.project.segment(i).start_frame, doc.project.segment(i).end_frame) for i in ids
    ] == [(5, 12), (30, 44)]


def test_a_new_take_for_one_line_makes_only_that_line_stale(doc: Document, tmp_path):
    (tmp_path / "s.srt").write_text(SRT)
    takes = tmp_path / "takes"
    takes.mkdir()
    _tone(takes / "0001.wav", 0.4)
    _tone(takes / "0002.wav", 0.7)
    first, second = doc.import_script(tmp_path / "s.srt", [takes])
    for seg_id in (first, second):  # as if both lines had been rendered
        (tmp_path / f"{seg_id}.mov").write_bytes(b"rendered")
        doc.mark_rendered(seg_id, tmp_path / f"{seg_id}.mov", doc.params_hash(seg_id))
    assert doc.stale_segments() == []
    _tone(tmp_path / "retake.wav", 0.5)
    track_id = roundtrip(
        doc, lambda: doc.replace_line_take(second, tmp_path / "retake.wav"), "Replace take"
    )
    assert doc.project.track(track_id).media.path.name == "retake.wav"
    assert [s.id for s in doc.stale_segments()] == [second]  # line 1 keeps its render


def test_a_take_longer_than_its_line_is_reported_as_overflow(doc: Document, tmp_path):
    from editor.model.script_import import take_overflow_ms

    (tmp_path / "s.srt").write_text(SRT)
    takes = tmp_path / "takes"
    takes.mkdir()
    _tone(takes / "0001.wav", 0.8)  # slot 0.1-0.6 s: the take ends at 0.9 s
    _tone(takes / "0002.wav", 0.5)  # slot 0.8-1.4 s: fits
    first, second = doc.import_script(tmp_path / "s.srt", [takes])
    assert take_overflow_ms(doc, first) == pytest.approx(300.0, abs=1.0)
    assert take_overflow_ms(doc, second) == 0.0
