"""Prepare a whole folder of talking-face videos for training: track, gate, cut, split, report.

Any folder works. In the LRS2 layout (``main/<speaker>/<clip>.mp4``) the folder above each clip
names its speaker; a flat folder makes every clip its own speaker (``--speaker-from file``
forces that). For every clip:

1. the faces are tracked with lipcore (:func:`lipcore.face.track.track_faces`, cached) and the
   main face is chosen (:func:`lipcore.face.select.choose_track`);
2. the data gate (:mod:`training.data.gate`) scores the clip's own audio against that face's lip
   gap with the project's sync meter and keeps it, re-aligns its audio, or drops it;
3. kept clips are cut into aligned 96x96 face crops with their audio, mel and FaceMesh
   landmarks (:func:`training.data.prepare_clips.iter_prepare_clip`);
4. speakers (or clips) are split into train and validation sets, held out whole.

Output: ``clips/<id>.npz``, one ``verdicts/<id>.json`` per clip (the run resumes by skipping
clips whose verdict exists for the same file content), ``manifest.json`` (every clip, its split,
gate figures and reason) and ``report.txt``. The trainers take
``$(python -m training.data.prepare_folder --list OUT train)`` style lists.

Usage::

    python -m training.data.prepare_folder /data/lrs2/main --out data/lrs2
    python -m training.data.prepare_folder data/lrs2 --list train   # prints the train .npz paths
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lipcore.cache import atomic_write_bytes, file_fingerprint
from lipcore.errors import LipsyncError
from lipcore.progress import Progress, drain
from training.data.gate import GateRules, GateVerdict, gate_clip

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.txt"


@dataclass(frozen=True)
class FolderSettings:
    """How a folder is prepared.

    Attributes:
        speaker_from: "folder" (the clip's parent folder names the speaker, as in LRS2; clips
            directly in the root are their own speaker) or "file" (every clip its own speaker).
        split_by: "speaker" (hold out whole speakers) or "clip".
        val_fraction: Share of speakers (or clips) held out; at least one when there are two.
        seed: Seed of the split (a stable hash, so adding clips does not reshuffle the others).
        max_frames: Use at most this many frames from the start of each clip (None = all).
        rules: Data-gate thresholds.
    """

    speaker_from: str = "folder"
    split_by: str = "speaker"
    val_fraction: float = 0.2
    seed: int = 0
    max_frames: int | None = None
    rules: GateRules = field(default_factory=GateRules)


@dataclass
class ClipEntry:
    """One source clip in the manifest."""

    clip_id: str
    source: str
    speaker: str
    fingerprint: str
    verdict: dict
    npz: str | None = None
    frames: int = 0
    split: str = ""


def find_videos(root: str | Path) -> list[Path]:
    """Every video file under ``root`` (recursively), sorted."""
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise LipsyncError("folder not found", root, fix="pass a folder of talking-face videos")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)


def clip_id(root: Path, video: Path) -> str:
    """A file-name-safe id from the clip's path under ``root`` (``spk__00001``)."""
    rel = video.relative_to(root) if video.is_relative_to(root) else Path(video.name)
    return "__".join(rel.with_suffix("").parts)


def speaker_of(root: Path, video: Path, speaker_from: str) -> str:
    """The speaker label of a clip (see :class:`FolderSettings`)."""
    if speaker_from == "file" or video.parent == root or not video.is_relative_to(root):
        return video.stem
    return video.parent.relative_to(root).as_posix()


def split_names(names: Sequence[str], val_fraction: float, seed: int) -> dict[str, str]:
    """Assign each name to "train" or "val" by a stable hash order."""
    unique = sorted(set(names))
    order = sorted(unique, key=lambda n: hashlib.sha1(f"{seed}:{n}".encode()).hexdigest())
    n_val = 0
    if len(unique) >= 2 and val_fraction > 0:
        n_val = min(len(unique) - 1, max(1, math.ceil(val_fraction * len(unique))))
    held = set(order[:n_val])
    return {n: ("val" if n in held else "train") for n in unique}


def _judge_and_cut(
    video: Path, out_npz: Path, speaker: str, settings: FolderSettings
) -> Iterator[Progress]:
    """Track, gate and (when kept) cut one clip; returns ``(verdict, frames_kept)``."""
    import numpy as np

    from lipcore.errors import MediaError, NoFaceError
    from lipcore.face.landmarks import lip_gap
    from lipcore.face.select import choose_track
    from lipcore.face.track import TrackerSettings, iter_track_faces
    from lipcore.media.audio import clip_audio
    from lipcore.media.probe import probe, require_video
    from training.data.prepare_clips import ClipData, iter_prepare_clip

    try:
        info = probe(video)
        vinfo = require_video(info)
    except MediaError as exc:
        return GateVerdict("drop", f"unreadable: {exc}"), 0
    stop = vinfo.frame_count
    if settings.max_frames is not None:
        stop = min(stop, settings.max_frames)
    try:
        audio = clip_audio(video, 16000, info=info) if info.audio else None
    except MediaError:
        audio = None
    if audio is None:  # before tracking: no audio, nothing to learn sync from
        return GateVerdict("drop", "the clip has no audio"), 0
    audio = audio[: int(round(stop * 16000 / float(vinfo.fps)))]
    tracker = TrackerSettings(tile=False, end_frame=stop)
    trackset = yield from iter_track_faces(video, tracker)
    if not trackset.tracks:
        return GateVerdict("drop", "no face was found"), 0
    track = choose_track(trackset)
    gap = np.full(stop, np.nan)
    rows = {int(f): i for i, f in enumerate(track.frames)}
    have = [f for f in range(stop) if f in rows]
    if have:
        gap[have] = lip_gap(track.landmarks[[rows[f] for f in have]])
    verdict = gate_clip(gap, audio, vinfo.fps, settings.rules)
    if verdict.action == "drop":
        return verdict, 0
    try:
        yield from iter_prepare_clip(
            video, out_npz, track, (0, stop), verdict.shift_frames, speaker
        )
    except NoFaceError as exc:
        return GateVerdict("drop", str(exc), verdict.offset_frames, verdict.confidence), 0
    return verdict, len(ClipData.load(out_npz).frames)


def iter_prepare_folder(
    root: str | Path, out_dir: str | Path, settings: FolderSettings = FolderSettings()
) -> Iterator[Progress]:
    """Prepare every clip under ``root`` into ``out_dir`` (a progress generator, resumable).

    Args:
        root: A folder of talking-face videos (any layout; LRS2's ``main/<speaker>/`` works).
        out_dir: Output folder (``clips/``, ``verdicts/``, ``manifest.json``, ``report.txt``).
        settings: Speaker labels, split and gate thresholds.

    Yields:
        :class:`Progress` with the clip count as ``done``/``total`` and the stage in words.

    Returns:
        The list of :class:`ClipEntry` (also written as ``manifest.json``).

    Raises:
        LipsyncError: ``root`` does not exist or holds no video.
    """
    root = Path(root)
    videos = find_videos(root)
    if not videos:
        raise LipsyncError(
            "no video files found", root, fix=f"put {', '.join(VIDEO_SUFFIXES)} files there"
        )
    return (yield from iter_prepare_clips(videos, out_dir, settings, root))


def iter_prepare_clips(
    videos: Sequence[Path],
    out_dir: str | Path,
    settings: FolderSettings = FolderSettings(),
    root: Path | None = None,
) -> Iterator[Progress]:
    """Prepare a list of clips into ``out_dir``: :func:`iter_prepare_folder` without the folder.

    Args:
        videos: The clips.
        out_dir: Output folder.
        settings: Speaker labels, split and gate thresholds.
        root: The folder the clips' ids and speakers are taken relative to (None: each clip's
            own folder, so ids are file stems).

    Returns:
        The list of :class:`ClipEntry`.
    """
    out_dir = Path(out_dir)
    (out_dir / "verdicts").mkdir(parents=True, exist_ok=True)
    entries: list[ClipEntry] = []
    total = len(videos)
    for n, video in enumerate(videos):
        video = Path(video)
        base = root if root is not None else video.parent
        cid = clip_id(base, video)
        speaker = speaker_of(base, video, settings.speaker_from)
        saved = out_dir / "verdicts" / f"{cid}.json"
        fingerprint = file_fingerprint(video)
        key = json.dumps(asdict(settings), sort_keys=True)
        if saved.exists():
            old = json.loads(saved.read_text())
            npz_ok = old.get("npz") is None or (out_dir / old["npz"]).exists()
            if old.get("fingerprint") == fingerprint and old.get("settings") == key and npz_ok:
                old.pop("settings")
                entries.append(ClipEntry(**old))
                yield Progress(n + 1, total, f"{cid}: already prepared")
                continue
        npz = out_dir / "clips" / f"{cid}.npz"
        stage = f"{cid} ({n + 1}/{total})"
        gen = _judge_and_cut(video, npz, speaker, settings)
        try:
            while True:
                inner = next(gen)
                yield Progress(n, total, f"{stage}: {inner.stage}")
        except StopIteration as stop:
            verdict, frames = stop.value
        entry = ClipEntry(
            cid,
            str(video),
            speaker,
            fingerprint,
            verdict.to_dict(),
            None if verdict.action == "drop" else f"clips/{cid}.npz",
            frames,
        )
        payload = json.dumps({**asdict(entry), "settings": key}, indent=1).encode()
        atomic_write_bytes(saved, payload)
        entries.append(entry)
        yield Progress(n + 1, total, f"{stage}: {verdict.action}")
    _assign_splits(entries, settings)
    write_manifest(entries, out_dir, settings)
    return entries


def _assign_splits(entries: list[ClipEntry], settings: FolderSettings) -> None:
    kept = [e for e in entries if e.npz is not None]
    by = (lambda e: e.speaker) if settings.split_by == "speaker" else (lambda e: e.clip_id)
    splits = split_names([by(e) for e in kept], settings.val_fraction, settings.seed)
    for e in entries:
        e.split = splits[by(e)] if e.npz is not None else "dropped"


def write_manifest(entries: list[ClipEntry], out_dir: Path, settings: FolderSettings) -> Path:
    """Write ``manifest.json`` and the human-readable ``report.txt``."""
    manifest = {
        "settings": asdict(settings),
        "clips": [asdict(e) for e in entries],
        "counts": {
            split: sum(e.split == split for e in entries) for split in ("train", "val", "dropped")
        },
    }
    atomic_write_bytes(out_dir / MANIFEST_NAME, json.dumps(manifest, indent=1).encode())
    atomic_write_bytes(out_dir / REPORT_NAME, format_report(entries).encode())
    return out_dir / MANIFEST_NAME


def format_report(entries: Sequence[ClipEntry]) -> str:
    """What was kept, re-aligned and dropped, and why, one line per clip."""
    lines = []
    for action in ("keep", "realign", "drop"):
        group = [e for e in entries if e.verdict["action"] == action]
        lines.append(f"{action}: {len(group)} clip(s)")
        for e in group:
            where = f"{e.split}, {e.frames} frames" if e.npz else "not used"
            lines.append(f"  {e.clip_id} [{e.speaker}] ({where}): {e.verdict['reason']}")
    speakers = {s: sorted({e.speaker for e in entries if e.split == s}) for s in ("train", "val")}
    lines.append(f"train speakers: {', '.join(speakers['train']) or '-'}")
    lines.append(f"val speakers: {', '.join(speakers['val']) or '-'}")
    return "\n".join(lines) + "\n"


def split_paths(out_dir: str | Path, split: str) -> list[Path]:
    """The ``.npz`` paths of one split ("train" / "val") of a prepared folder."""
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / MANIFEST_NAME).read_text())
    return [out_dir / c["npz"] for c in manifest["clips"] if c["split"] == split]


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder of videos, or a prepared folder (--list)")
    parser.add_argument("--out", type=Path, help="output folder")
    parser.add_argument("--list", choices=("train", "val"), help="print a split's .npz paths")
    parser.add_argument("--speaker-from", choices=("folder", "file"), default="folder")
    parser.add_argument("--split-by", choices=("speaker", "clip"), default="speaker")
    parser.add_argument("--val-fraction", type=float, default=0.2)
    parser.add_argument("--max-frames", type=int, default=None)
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(str(p) for p in split_paths(args.root, args.list)))
        return
    if args.out is None:
        parser.error("--out is required to prepare a folder")
    settings = FolderSettings(
        speaker_from=args.speaker_from,
        split_by=args.split_by,
        val_fraction=args.val_fraction,
        max_frames=args.max_frames,
    )
    entries = drain(iter_prepare_folder(args.root, args.out, settings), True, "prepare")
    print(format_report(entries), end="")


if __name__ == "__main__":
    main()
