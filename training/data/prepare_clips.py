"""Cut training clips into Wav2Lip face crops + audio, cached as one ``.npz`` per clip.

For every frame of a clip (or a frame range) the speaker's face box is cut and resized to 96x96
the way Wav2Lip's ``preprocess.py`` does (box smoothed over 5 frames, chin padded), and the
clip's own 16 kHz audio and Wav2Lip mel are stored beside the crops. Face boxes come from a
given :class:`~lipcore.face.types.FaceTrack` (e.g. from :func:`lipcore.face.track.track_faces`)
or, without one, from MediaPipe detection on every frame, following the face whose box overlaps
the previous one most (fine for single-speaker training footage).

Usage::

    python -m training.data.prepare_clips clip1.mp4 clip2.mp4 --out data/clips
"""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.cache import atomic_write_bytes
from lipcore.errors import LipsyncError, NoFaceError
from lipcore.progress import Progress, drain
from lipcore.runs import longest_true_run

CROP_PX = 96


@dataclass
class ClipData:
    """One prepared clip.

    Attributes:
        crops: ``(N, 96, 96, 3)`` uint8 BGR face crops of consecutive frames.
        frames: ``(N,)`` source frame indices.
        fps: Frame rate.
        audio_16k: The clip's audio, mono float32 at 16 kHz, sample 0 = frame 0.
        mel: ``(80, T)`` Wav2Lip mel of ``audio_16k``.
        source: The clip's path as prepared.
        landmarks: ``(N, 478, 2)`` float32 FaceMesh points of the same frames (source-frame
            pixels) when the clip was prepared from a face track, else None. The lip gap the
            sync meter reads, and the mouth shapes a mouth-shape model learns, come from them.
        speaker: Who speaks (the folder name in the LRS2 layout), for speaker-wise splits.
        audio_shift_frames: How far the audio was moved to put it in sync (the data gate's
            correction; positive = the source's audio was late and was advanced).
    """

    crops: np.ndarray
    frames: np.ndarray
    fps: Fraction
    audio_16k: np.ndarray
    mel: np.ndarray
    source: str = ""
    landmarks: np.ndarray | None = None
    speaker: str = ""
    audio_shift_frames: int = 0

    def save(self, path: str | os.PathLike) -> Path:
        """Write the clip to ``path`` (``.npz``) atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            crops=self.crops,
            frames=self.frames,
            fps=np.array([self.fps.numerator, self.fps.denominator], np.int64),
            audio_16k=self.audio_16k.astype(np.float32),
            mel=self.mel.astype(np.float32),
            source=np.array(self.source),
            speaker=np.array(self.speaker),
            audio_shift_frames=np.array(int(self.audio_shift_frames)),
            **({} if self.landmarks is None else {"landmarks": self.landmarks.astype(np.float32)}),
        )
        atomic_write_bytes(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ClipData:
        """Read a clip written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            num, den = (int(v) for v in z["fps"])
            return cls(
                z["crops"],
                z["frames"],
                Fraction(num, den),
                z["audio_16k"],
                z["mel"],
                str(z["source"]),
                z["landmarks"] if "landmarks" in z.files else None,
                str(z["speaker"]) if "speaker" in z.files else "",
                int(z["audio_shift_frames"]) if "audio_shift_frames" in z.files else 0,
            )


def _detect_boxes(
    video: Path, first: int, stop: int
) -> Iterator[tuple[int, np.ndarray | None, np.ndarray]]:
    """Yield ``(frame, box or None, image)`` following one face with MediaPipe detection."""
    from lipcore.face.detect import MediaPipeDetector, box_iou
    from lipcore.media.decode import VideoReader

    previous = None
    with VideoReader(video) as reader, MediaPipeDetector(tile=False) as detector:
        for index, image in reader.iter_frames(first, stop):
            dets = detector.detect(image)
            if not dets:
                yield index, None, image
                continue
            boxes = np.stack([d.box for d in dets])
            if previous is None:
                k = int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))
            else:
                k = int(np.argmax(box_iou(previous[None], boxes).reshape(-1)))
            previous = boxes[k]
            yield index, boxes[k], image


def iter_prepare_clip(
    video: str | os.PathLike,
    out: str | os.PathLike,
    track=None,
    frames: tuple[int, int] | None = None,
    audio_shift_frames: int = 0,
    speaker: str = "",
) -> Iterator[Progress]:
    """Cut one clip into crops + audio and save it (a progress generator).

    Args:
        video: The clip (its own audio must match the mouth: training data is in sync).
        out: Output ``.npz`` path.
        track: Optional FaceTrack giving the face boxes (and landmarks, which are stored);
            else MediaPipe detection.
        frames: ``(first, end)`` frame range (end exclusive); default the whole clip.
        audio_shift_frames: Advance the audio by this many frames (negative: delay it) to
            correct a clip whose own audio is off (:mod:`training.data.gate` measures it).
        speaker: Speaker label stored with the clip.

    Returns:
        The written path (the generator's return value). Only the longest run of consecutive
        frames with a face is kept, so every 5-frame window is real.

    Raises:
        NoFaceError: Fewer than 10 consecutive frames with a face.
        MediaError: Unreadable clip or no audio.
    """
    from lipcore.audio.mel import wav2lip_mel
    from lipcore.media.audio import clip_audio
    from lipcore.media.decode import VideoReader
    from lipcore.media.probe import probe, require_video
    from lipcore.sync.expert import crop_wav2lip_face, smooth_boxes

    video = Path(video)
    info = probe(video)
    vinfo = require_video(info)
    first, stop = frames if frames is not None else (0, vinfo.frame_count)
    stop = min(stop, vinfo.frame_count)
    if stop <= first:
        raise LipsyncError(
            f"frame range {first}-{stop} is outside the clip ({vinfo.frame_count} frames)",
            video,
            fix="pick frames inside the clip",
        )
    audio = shift_audio(clip_audio(video, 16000, info=info), audio_shift_frames, vinfo.fps)
    total = max(1, stop - first)
    # Two passes keep memory flat: boxes first, then decode again and keep only the crops.
    indices, boxes = [], []
    if track is not None:
        rows = {int(f): i for i, f in enumerate(track.frames)}
        for index in range(first, stop):
            row = rows.get(index)
            indices.append(index)
            boxes.append(None if row is None else track.boxes[row])
    else:
        for index, box, _image in _detect_boxes(video, first, stop):
            indices.append(index)
            boxes.append(box)
            yield Progress(index - first + 1, total, "finding the face")
    # Longest run of consecutive frames with a face.
    a, b = longest_true_run([b is not None for b in boxes])
    if b - a < 10:
        raise NoFaceError(
            f"only {b - a} consecutive frames with a face", video, fix="use footage of one face"
        )
    smoothed = smooth_boxes(np.stack(boxes[a:b]))
    crops = np.empty((b - a, CROP_PX, CROP_PX, 3), np.uint8)
    with VideoReader(video, info=info) as reader:
        for k, (index, image) in enumerate(reader.iter_frames(indices[a], indices[b - 1] + 1)):
            crops[k] = crop_wav2lip_face(image, smoothed[k], CROP_PX)
            yield Progress(index - first + 1, total, "cutting face crops")
    kept = np.asarray(indices[a:b], np.int64)
    landmarks = None
    if track is not None:
        landmarks = np.stack([track.landmarks[rows[int(f)]] for f in kept]).astype(np.float32)
    clip = ClipData(
        crops=crops,
        frames=kept,
        fps=vinfo.fps,
        audio_16k=audio,
        mel=wav2lip_mel(audio),
        source=str(video),
        landmarks=landmarks,
        speaker=speaker,
        audio_shift_frames=int(audio_shift_frames),
    )
    path = clip.save(out)
    yield Progress(total, total, "saved")
    return path


def shift_audio(audio_16k: np.ndarray, shift_frames: int, fps) -> np.ndarray:
    """Advance (positive) or delay (negative) audio by whole video frames, keeping sample 0 on
    frame 0: advancing drops the first samples, delaying pads silence in front."""
    from lipcore.timebase import frame_to_sample

    if shift_frames == 0:
        return audio_16k
    n = frame_to_sample(abs(int(shift_frames)), fps, 16000)
    if shift_frames > 0:
        return np.ascontiguousarray(audio_16k[n:])
    return np.concatenate([np.zeros(n, audio_16k.dtype), audio_16k])


def prepare_clip(
    video, out, track=None, frames=None, show_progress: bool = False, audio_shift_frames=0
) -> Path:
    """Drain :func:`iter_prepare_clip` and return the written path."""
    gen = iter_prepare_clip(video, out, track, frames, audio_shift_frames)
    return drain(gen, show_progress, "prepare")


def main(argv: list[str] | None = None) -> None:
    """Command line: prepare several clips into a folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output folder for .npz files")
    parser.add_argument("--max-frames", type=int, default=None)
    args = parser.parse_args(argv)
    for video in args.videos:
        rng = None if args.max_frames is None else (0, args.max_frames)
        path = prepare_clip(video, args.out / f"{video.stem}.npz", frames=rng, show_progress=True)
        print(path)


if __name__ == "__main__":
    main()
