"""Project files: save/load equality, atomic writes, errors, migrations, relative paths, relink."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

import lipcore.project as lp
from lipcore.errors import ProjectError
from lipcore.project import (
    AudioTrack,
    ExportSettings,
    FaceTracksRef,
    MediaRef,
    Project,
    RenderState,
    Segment,
    SegmentOptions,
    find_missing_media,
    load_project,
    relink,
    relink_folder,
    save_project,
)

FROZEN = Path(__file__).resolve().parents[1] / "data" / "projects"


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory) -> Path:
    """A tiny generated clip and a WAV (never shared media)."""
    d = tmp_path_factory.mktemp("proj_media")
    _lavfi("testsrc=size=32x32:rate=25:duration=1 -c:v libx264 -pix_fmt yuv420p", d / "clip.mp4")
    _lavfi("sine=frequency=300:duration=0.5", d / "dub.wav")
    return d


def _lavfi(source_and_args: str, out: Path) -> None:
    """Generate a synthetic media file with ffmpeg's lavfi sources."""
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", *source_and_args.split(), str(out)]
    subprocess.run(cmd, check=True)


def make_project(folder: Path) -> Project:
    """A project using every field, with media under ``folder/media``."""
    media = folder / "media"
    video = MediaRef.from_file(media / "clip.mp4")
    dub = MediaRef.from_file(media / "dub.wav")
    p = Project(
        video=video,
        fps=Fraction(30000, 1001),
        frame_count=25,
        width=32,
        height=32,
        video_has_audio=False,
        audio_tracks=[
            AudioTrack("t-orig", "Original"),
            AudioTrack(
                "t-dub",
                "Doublage français ✓",
                dub,
                offset_samples=-1234,
                duration_samples=8000,
                gain_db=-4.5,
                muted=True,
                solo=False,
                face_track_id="face-1",
            ),
        ],
        face_tracks=FaceTracksRef("faces_abc", "mediapipe", ["face-0", "face-1"]),
        segments=[
            Segment(
                "s1",
                0,
                10,
                "t-dub",
                "face-1",
                "retime",
                SegmentOptions(20, 0.75, "self", 3, -160, (1, 2, 30, 31)),
                label="Bonjour",
            ),
            Segment("s2", 12, 25, None, None, "wav2lip"),
        ],
        export=ExportSettings(folder / "exports" / "final.mov", "mov_prores_pcm", "mix", 10),
    )
    p.segments[0].render = RenderState(
        "done", "/cache/r.mp4", p.segment_params_hash(p.segments[0])
    )
    return p


@pytest.fixture
def project_dir(tmp_path, clip_files) -> Path:
    d = tmp_path / "job"
    (d / "media").mkdir(parents=True)
    for f in clip_files.iterdir():
        shutil.copy(f, d / "media" / f.name)
    return d


def test_save_load_equality(project_dir):
    p = make_project(project_dir)
    path = save_project(p, project_dir / "edit.lsproj")
    q = load_project(path)
    assert q == p
    assert q.fps == Fraction(30000, 1001)
    # resaving gives byte-identical text: nothing drifts through a round trip
    text = path.read_text(encoding="utf-8")
    save_project(q, path)
    assert path.read_text(encoding="utf-8") == text


def test_file_is_utf8_json_with_integer_units_and_relative_paths(project_dir):
    path = save_project(make_project(project_dir), project_dir / "edit.lsproj")
    data = json.loads(path.read_bytes().decode("utf-8"))
    assert data["schema_version"] == lp.SCHEMA_VERSION == 2 and isinstance(
        data["schema_version"], int
    )
    assert data["fps"] == {"num": 30000, "den": 1001}
    assert data["video"]["path"] == "media/clip.mp4"
    assert data["audio_tracks"][1]["media"]["path"] == "media/dub.wav"
    assert data["export"]["output_path"] == "exports/final.mov"
    assert "Doublage français ✓" in path.read_text(encoding="utf-8")  # not \u-escaped
    seg = data["segments"][0]
    assert isinstance(seg["start_frame"], int) and isinstance(
        seg["options"]["audio_offset_samples"], int
    )
    assert seg["params_hash"] == seg["render"]["params_hash"]
    assert not any(
        isinstance(v, float) for k, v in seg.items() if k.endswith(("_frame", "_samples"))
    )


def test_moving_project_folder_with_media_keeps_links(project_dir, tmp_path):
    save_project(make_project(project_dir), project_dir / "edit.lsproj")
    moved = tmp_path / "elsewhere" / "renamed_job"
    moved.parent.mkdir()
    shutil.move(project_dir, moved)
    q = load_project(moved / "edit.lsproj")
    assert q.video.path == moved / "media" / "clip.mp4" and q.video.exists()
    assert find_missing_media(q) == []


def test_media_outside_the_project_folder(project_dir):
    sub = project_dir / "projects" / "v2"
    sub.mkdir(parents=True)
    path = save_project(make_project(project_dir), sub / "edit.lsproj")
    assert json.loads(path.read_text())["video"]["path"] == "../../media/clip.mp4"
    assert load_project(path).video.exists()


def test_failed_save_keeps_the_old_file(project_dir, monkeypatch):
    p = make_project(project_dir)
    path = save_project(p, project_dir / "edit.lsproj")
    before = path.read_bytes()
    p.segments[0].label = "changed"

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lp.os, "fsync", full_disk)
    with pytest.raises(ProjectError, match="No space left") as err:
        save_project(p, path)
    assert err.value.path == path and "previous file is unchanged" in str(err.value)
    assert path.read_bytes() == before
    assert sorted(x.name for x in project_dir.iterdir()) == ["edit.lsproj", "media"]  # no temp


def test_disk_full_in_the_middle_of_writing_keeps_the_old_file(project_dir, monkeypatch):
    p = make_project(project_dir)
    path = save_project(p, project_dir / "edit.lsproj")
    before = path.read_bytes()
    p.segments.append(Segment("s3", 30, 40))
    real_open = open

    class HalfWriter:
        """A file that accepts half of what it is given, then reports a full disk."""

        def __init__(self, f):
            self.f = f

        def write(self, text):
            self.f.write(text[: len(text) // 2])
            self.f.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def fake_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return HalfWriter(f) if "w" in mode else f

    import lipcore.cache

    # Projects are written through lipcore.cache.atomic_write_bytes.
    monkeypatch.setattr(lipcore.cache, "open", fake_open, raising=False)
    with pytest.raises(ProjectError, match="No space left"):
        save_project(p, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_project(path).segments[-1].id == "s2"
    assert sorted(x.name for x in project_dir.iterdir()) == ["edit.lsproj", "media"]


def test_failed_rename_keeps_the_old_file(project_dir, monkeypatch):
    p = make_project(project_dir)
    path = save_project(p, project_dir / "edit.lsproj")
    before = path.read_bytes()
    p.frame_count = 24

    def boom(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(lp.os, "replace", boom)
    with pytest.raises(ProjectError, match="Permission denied"):
        save_project(p, path)
    assert path.read_bytes() == before
    assert not list(project_dir.glob(".*tmp"))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b'{"format": "lipsync-project", "schema_version": 1, "id": ', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b'{"hello": "world"}', "not a lipsync project"),
        (b"[1, 2, 3]", "not a lipsync project"),
    ],
)
def test_corrupt_files_name_the_file(tmp_path, content, match):
    path = tmp_path / "broken.lsproj"
    path.write_bytes(content)
    with pytest.raises(ProjectError, match=match) as err:
        load_project(path)
    assert err.value.path == path and err.value.fix
    assert "broken.lsproj" in str(err.value)


def test_truncated_real_file_is_reported(project_dir):
    path = save_project(make_project(project_dir), project_dir / "edit.lsproj")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ProjectError, match=r"edit\.lsproj.*line \d+") as err:
        load_project(path)
    assert "autosave" in err.value.fix


def _frozen_data() -> dict:
    return json.loads((FROZEN / "v1_full.lsproj").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["segments"][0].pop("start_frame"), r"segments\[0\]\.start_frame is missing"),
        (lambda d: d.pop("audio_tracks"), "audio_tracks is missing"),
        (
            lambda d: d["segments"][1]["options"].update(mouth_strength="lots"),
            r"segments\[1\]\.options\.mouth_strength should be",
        ),
        (
            lambda d: d["audio_tracks"][1].update(offset_samples=1.5),
            "offset_samples should be int",
        ),
        (lambda d: d["audio_tracks"][1].update(muted="no"), "muted should be bool"),
        (lambda d: d["segments"][0].update(end_frame=True), "end_frame should be int"),
        (lambda d: d["segments"][0].update(end_frame=10), "empty or negative range"),
        (
            lambda d: d["segments"][0]["render"].update(status="rendering"),
            "status should be one of",
        ),
        (lambda d: d["fps"].update(den=0), "fps must be positive"),
        (lambda d: d.update(frame_count=-5), "frame_count must not be negative"),
        (lambda d: d["export"].update(crf=99), "crf should be within 0..51"),
        (lambda d: d["segments"][0].update(audio_track_id="gone"), "refers to no audio track"),
        (lambda d: d["segments"][1].update(id="s00000000001"), "ids are not unique"),
    ],
)
def test_missing_or_wrong_fields_are_named(tmp_path, edit, match):
    data = _frozen_data()
    edit(data)
    path = tmp_path / "bad.lsproj"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match=match) as err:
        load_project(path)
    assert err.value.path == path


def test_newer_schema_is_refused_with_update_hint(tmp_path):
    data = _frozen_data()
    data["schema_version"] = lp.SCHEMA_VERSION + 1
    path = tmp_path / "future.lsproj"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match="newer lipsync") as err:
        load_project(path)
    assert err.value.path == path and "update" in err.value.fix


@pytest.mark.parametrize("version", ["1", "1.0", 0, None, True])
def test_schema_version_must_be_a_positive_integer(tmp_path, version):
    data = _frozen_data()
    data["schema_version"] = version
    path = tmp_path / "odd.lsproj"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ProjectError, match="schema_version"):
        load_project(path)


def test_migrations_are_chained_in_order(tmp_path, monkeypatch):
    """Pretend the current schema is 3: a v1 file goes through 1->2 then 2->3."""
    calls = []

    def migrate_1_to_2(d):
        calls.append(1)
        d = dict(d, schema_version=2)
        d["clip_frames"] = d.pop("frame_count")  # a rename in schema 2...
        return d

    def migrate_2_to_3(d):
        calls.append(2)
        d = dict(d, schema_version=3)
        d["frame_count"] = d.pop("clip_frames")  # ...undone in schema 3
        return d

    monkeypatch.setattr(lp, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(lp, "MIGRATIONS", {1: migrate_1_to_2, 2: migrate_2_to_3})
    # (the real chain is {1: migrate_1_to_2}; this stands in a fake two-step one)
    q = load_project(FROZEN / "v1_full.lsproj")
    assert calls == [1, 2] and q.frame_count == 300 and q.schema_version == 3
    monkeypatch.setattr(lp, "MIGRATIONS", {1: migrate_1_to_2})
    with pytest.raises(ProjectError, match="no migration from project schema 2 to 3"):
        load_project(FROZEN / "v1_full.lsproj")


def test_frozen_v1_files_still_load():
    q = load_project(FROZEN / "v1_full.lsproj")
    assert q.id == "0f1e2d3c4b5a" and q.fps == Fraction(30000, 1001) and q.frame_count == 300
    assert q.video.path == FROZEN / "media" / "interview.mp4"
    dub = q.track("a00000000dub")
    assert (dub.name, dub.offset_samples, dub.solo, dub.face_track_id) == (
        "Doblaje español",
        -800,
        True,
        "face-0",
    )
    s1, s2 = q.segment("s00000000001"), q.segment("s00000000002")
    assert s1.options == SegmentOptions(16, 0.8, "neutral", 12, 320, None)
    assert s2.options.region == (400, 200, 880, 700) and s2.engine == "wav2lip"
    assert s2.render.status == "failed" and "no face" in s2.render.message
    assert q.export.output_path == FROZEN / "out" / "final.mp4"
    # the render-parameter hash must stay stable across versions, or every upgrade would
    # throw away all rendered segments
    data = _frozen_data()
    for seg, stored in zip(q.segments, data["segments"], strict=True):
        assert q.segment_params_hash(seg) == stored["params_hash"]
    assert [m.role for m in find_missing_media(q)] == ["video", "audio"]
    empty = load_project(FROZEN / "v1_empty.lsproj")
    assert empty.video is None and empty.segments == [] and empty.audio_tracks == []


def test_relink_same_content(project_dir, tmp_path):
    p = make_project(project_dir)
    path = save_project(p, project_dir / "edit.lsproj")
    new_home = tmp_path / "archive"
    new_home.mkdir()
    shutil.move(project_dir / "media" / "dub.wav", new_home / "dub.wav")
    q = load_project(path)
    missing = find_missing_media(q)
    assert [(m.role, m.owner_id, m.ref.path.name) for m in missing] == [
        ("audio", "t-dub", "dub.wav")
    ]
    result = relink(q, missing[0].ref, new_home / "dub.wav")
    assert result.updated == 1 and result.fingerprint_matches and result.warning is None
    assert find_missing_media(q) == []
    # the rendered segment's params did not change: same content, same hash
    assert q.segment_params_hash(q.segments[0]) == q.segments[0].render.params_hash
    save_project(q, path)
    assert json.loads(path.read_text())["audio_tracks"][1]["media"]["path"] == os.path.relpath(
        new_home / "dub.wav", project_dir
    ).replace(os.sep, "/")


def test_relink_other_content_warns(project_dir, clip_files):
    p = make_project(project_dir)
    old = p.audio_tracks[1].media
    other = project_dir / "other.wav"
    _lavfi("sine=frequency=900:duration=0.5", other)
    h_before = p.segment_params_hash(p.segments[0])
    result = relink(p, old.path, other)
    assert not result.fingerprint_matches
    assert "other.wav" in result.warning and "dub.wav" in result.warning
    assert p.segment_params_hash(p.segments[0]) != h_before  # its render is now stale
    with pytest.raises(ProjectError, match="does not use"):
        relink(p, project_dir / "nothing.wav", other)
    with pytest.raises(ProjectError, match="not found"):
        relink(p, other, project_dir / "missing.wav")


def test_relink_folder(project_dir, tmp_path):
    p = make_project(project_dir)
    moved = tmp_path / "moved_media"
    shutil.move(project_dir / "media", moved)
    assert len(find_missing_media(p)) == 2
    results = relink_folder(p, moved)
    assert len(results) == 2 and all(r.fingerprint_matches for r in results)
    assert find_missing_media(p) == []


def test_segment_spec_and_render_request(project_dir):
    p = make_project(project_dir)
    spec = p.segment_spec(p.segments[0])
    assert (spec.start_frame, spec.end_frame, spec.engine, spec.feather_px) == (
        0,
        10,
        "retime",
        20,
    )
    assert spec.audio_offset_samples == -160  # the segment's own nudge
    assert spec.options.reference == "self" and spec.options.neutral_frame == 3
    assert spec.options.mouth_strength == 0.75
    req = p.render_request(["s1"], project_dir / "out.mp4")
    assert req.video == project_dir / "media" / "clip.mp4"
    assert req.audio == project_dir / "media" / "dub.wav"
    assert req.audio_offset_samples == -1234  # the track's placement; the pipeline adds both
    assert req.face.track_id == "face-1" and req.face.region == (1.0, 2.0, 30.0, 31.0)
    assert req.segments == (spec,) and (req.audio_mix, req.crf) == ("mix", 10)
    with pytest.raises(ProjectError, match="no audio track"):
        p.render_request(["s2"], project_dir / "out.mp4")
    with pytest.raises(ProjectError, match="different audio tracks"):
        p.render_request(["s1", "s2"], project_dir / "out.mp4")
    p.segments[1].audio_track_id = "t-orig"  # the clip's own audio drives it
    assert p.render_request(["s2"], project_dir / "o.mp4").audio == req.video


def test_missing_file_error(tmp_path):
    with pytest.raises(ProjectError, match="not found") as err:
        load_project(tmp_path / "nope.lsproj")
    assert err.value.path == tmp_path / "nope.lsproj"


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    yield path


def test_any_damaged_field_gives_project_error_or_loads(tmp_path):
    """Replace each field of the frozen file by junk: ProjectError or a valid load, no crash."""
    import copy

    base = _frozen_data()
    junk = [None, "x", 1.5, -1, [], {}, True, [1, 2]]
    path = tmp_path / "fuzz.lsproj"
    failures = []
    for leaf in _leaves(base):
        if not leaf:
            continue
        for value in junk:
            data = copy.deepcopy(base)
            node = data
            for key in leaf[:-1]:
                node = node[key]
            node[leaf[-1]] = value
            path.write_text(json.dumps(data), encoding="utf-8")
            try:
                load_project(path)
            except ProjectError:
                pass
            except Exception as exc:  # noqa: BLE001 - the point is to catch anything else
                failures.append(f"{'.'.join(map(str, leaf))}={value!r}: {exc!r}")
    assert not failures, "\n".join(failures[:40])
