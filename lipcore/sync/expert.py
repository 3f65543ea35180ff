"""Sync scoring with a SyncNet expert: per-frame confidence, best offset, LSE-D and LSE-C.

Two expert formats are understood, recognised from the checkpoint's keys:

* **Wav2Lip's lip-sync expert** (``lipsync_expert.pth``, method ``"syncnet-wav2lip"``): lower
  halves of 5 consecutive 96x96 BGR face crops vs the frame's 16-step Wav2Lip mel window. The
  embeddings are L2-normalised, so distances lie in [0, 2] and are *not* on the published LSE
  scale; they rank offsets and clips the same way.
* **joonson's SyncNet** (``syncnet_v2.model``, method ``"syncnet-v2"``): 5 consecutive 224x224 BGR
  face crops (cut like ``run_pipeline.py``: the box's half-size ``bs``, crop scale 0.4) vs 20 steps
  of 13 MFCCs. This is the network behind the LSE-D / LSE-C numbers papers publish.

Both follow ``SyncNetInstance.evaluate``: one embedding per 5-frame window; for every window
the distance to the audio embeddings shifted by -K..K windows (zero-padded at the ends, as
``calc_pdist`` does); the mean over windows per shift; the best shift is the minimum; LSE-D is
that minimum mean distance, LSE-C = median - minimum over shifts; the per-frame confidence is
``median(mean distances) - distance at the best shift``, median-filtered over 9 windows.
Published numbers assume 25 fps video; at other rates the audio windows still cover 0.2 s
starting at each frame's exact time. Face boxes come from this project's tracker (MediaPipe),
not the S3FD detector both papers used; MediaPipe boxes sit a little lower and tighter on the
forehead, so crops are close to, not identical with, the published pipelines' crops.

Sign convention (:class:`~lipcore.sync.types.SyncScore`): ``offset_frames`` > 0 means the audio
is late. joonson's tool prints the opposite sign (its ``offset = vshift - argmin``).

MFCCs are computed by :func:`psf_mfcc`, a line-by-line numpy re-implementation of
``python_speech_features.mfcc`` 0.6 with its defaults (25 ms rectangular frames every 10 ms,
pre-emphasis 0.97, 512-point FFT power spectrum, 26 triangular mel filters 0-8000 Hz, log, DCT-II
ortho, 13 cepstra, lifter 22, c0 replaced by log frame energy), fed int16-scaled samples as
``scipy.io.wavfile`` gives them.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from lipcore.errors import LipsyncError, NoFaceError
from lipcore.progress import Progress, drain
from lipcore.sync.types import SyncScore

WINDOW_FRAMES = 5
DEFAULT_MAX_OFFSET = 15
WAV2LIP_CROP_PX = 96
V2_CROP_PX = 224
#: joonson's ``--crop_scale``: extra border around the detector box when cutting face videos.
V2_CROP_SCALE = 0.4
#: joonson pads frames with grey 110 where the crop leaves the picture.
V2_PAD_VALUE = 110
#: ``SyncNetInstance`` median-filters the per-frame confidence with this kernel.
CONF_MEDIAN_KERNEL = 9
MFCC_STEPS_PER_SEC = 100
MFCC_WINDOW_STEPS = 20

METHODS = {"syncnet": "syncnet-wav2lip", "syncnet_v2": "syncnet-v2"}


# ---------------------------------------------------------------- MFCC (python_speech_features)


def _hz2mel(hz):
    return 2595 * np.log10(1 + hz / 700.0)


def _mel2hz(mel):
    return 700 * (10 ** (mel / 2595.0) - 1)


def _psf_filterbanks(nfilt: int, nfft: int, samplerate: int) -> np.ndarray:
    lowmel, highmel = _hz2mel(0.0), _hz2mel(samplerate / 2)
    melpoints = np.linspace(lowmel, highmel, nfilt + 2)
    bins = np.floor((nfft + 1) * _mel2hz(melpoints) / samplerate)
    fbank = np.zeros([nfilt, nfft // 2 + 1])
    for j in range(nfilt):
        for i in range(int(bins[j]), int(bins[j + 1])):
            fbank[j, i] = (i - bins[j]) / (bins[j + 1] - bins[j])
        for i in range(int(bins[j + 1]), int(bins[j + 2])):
            fbank[j, i] = (bins[j + 2] - i) / (bins[j + 2] - bins[j + 1])
    return fbank


def psf_mfcc(signal: np.ndarray, samplerate: int = 16000) -> np.ndarray:
    """``python_speech_features.mfcc(signal, samplerate)`` with its default arguments.

    Args:
        signal: ``(S,)`` samples on the int16 scale (joonson reads WAVs with scipy, unscaled).
        samplerate: Sample rate in Hz.

    Returns:
        ``(T, 13)`` float64 MFCCs, one row per 10 ms.
    """
    from scipy.fftpack import dct

    winlen, winstep, numcep, nfilt, nfft, preemph, ceplifter = 0.025, 0.01, 13, 26, 512, 0.97, 22
    sig = np.asarray(signal, np.float64)
    sig = np.append(sig[0], sig[1:] - preemph * sig[:-1]) if sig.size else sig
    frame_len = int(np.round(winlen * samplerate))  # round_half_up for these exact values
    frame_step = int(np.round(winstep * samplerate))
    slen = len(sig)
    if slen <= frame_len:
        numframes = 1
    else:
        numframes = 1 + int(np.ceil((1.0 * slen - frame_len) / frame_step))
    padlen = int((numframes - 1) * frame_step + frame_len)
    padsignal = np.concatenate((sig, np.zeros(padlen - slen)))
    idx = np.arange(frame_len)[None, :] + (np.arange(numframes) * frame_step)[:, None]
    frames = padsignal[idx]
    pspec = 1.0 / nfft * np.square(np.absolute(np.fft.rfft(frames, nfft)))
    energy = np.sum(pspec, 1)
    energy = np.where(energy == 0, np.finfo(float).eps, energy)
    feat = np.dot(pspec, _psf_filterbanks(nfilt, nfft, samplerate).T)
    feat = np.where(feat == 0, np.finfo(float).eps, feat)
    feat = dct(np.log(feat), type=2, axis=1, norm="ortho")[:, :numcep]
    n = np.arange(numcep)
    feat = feat * (1 + (ceplifter / 2.0) * np.sin(np.pi * n / ceplifter))
    feat[:, 0] = np.log(energy)
    return feat


# ---------------------------------------------------------------- crops


def smooth_boxes(boxes: np.ndarray, window: int = 5) -> np.ndarray:
    """Mean of each box over the next ``window`` frames (Wav2Lip's ``get_smoothened_boxes``)."""
    boxes = np.asarray(boxes, np.float64)
    out = boxes.copy()
    n = len(boxes)
    for i in range(n):
        a = min(i, max(0, n - window))  # the last windows stay full length, as in Wav2Lip
        out[i] = boxes[a : a + window].mean(axis=0)
    return out


def crop_wav2lip_face(frame: np.ndarray, box: np.ndarray, size: int = WAV2LIP_CROP_PX):
    """Cut the face box as Wav2Lip does (bottom padded by 5% for the chin), resized to a square.

    Args:
        frame: ``(H, W, 3)`` BGR frame.
        box: ``x0, y0, x1, y1`` face box in frame pixels.
        size: Output side.

    Returns:
        ``(size, size, 3)`` uint8 crop (stretched, not letterboxed, as in Wav2Lip).
    """
    import cv2

    x0, y0, x1, y1 = (float(v) for v in box[:4])
    y1 += 0.05 * (y1 - y0)  # Wav2Lip's default pads=[0, 10, 0, 0] on ~200 px faces
    x0, y0 = max(0.0, x0), max(0.0, y0)
    x1, y1 = min(float(frame.shape[1]), x1), min(float(frame.shape[0]), y1)
    sx, sy = size / max(x1 - x0, 1.0), size / max(y1 - y0, 1.0)
    mat = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
    return cv2.warpAffine(frame, mat, (size, size), flags=cv2.INTER_AREA)


def crop_v2_face(frame: np.ndarray, box: np.ndarray, size: int = V2_CROP_PX):
    """Cut the face as joonson's ``run_pipeline.py`` does, resized to ``size`` squared.

    ``bs`` = half the box's longer side; the crop spans ``bs * (1 + cs)`` either side of the box
    centre horizontally and from ``bs`` above to ``bs * (1 + 2 cs)`` below it, grey (110) outside
    the picture.
    """
    import cv2

    x0, y0, x1, y1 = (float(v) for v in box[:4])
    bs = max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    cs = V2_CROP_SCALE
    left, top = cx - bs * (1 + cs), cy - bs
    side = 2 * bs * (1 + cs)  # == bs + bs * (1 + 2 cs)
    s = size / max(side, 1.0)
    mat = np.array([[s, 0, -left * s], [0, s, -top * s]], np.float64)
    return cv2.warpAffine(
        frame,
        mat,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(V2_PAD_VALUE,) * 3,
    )


# ---------------------------------------------------------------- scoring core


def pairwise_shift_distances(
    video_emb: np.ndarray, audio_emb: np.ndarray, max_offset: int
) -> np.ndarray:
    """``calc_pdist``: distance of every video window to the audio windows shifted -K..K.

    Args:
        video_emb: ``(W, D)`` video embeddings.
        audio_emb: ``(W, D)`` audio embeddings.
        max_offset: K.

    Returns:
        ``(W, 2K+1)``; column ``j`` compares video window ``i`` with audio window ``i + j - K``
        (a zero vector past either end, as joonson pads).
    """
    k = int(max_offset)
    w, d = video_emb.shape
    padded = np.concatenate([np.zeros((k, d)), audio_emb, np.zeros((k, d))]).astype(np.float64)
    v = video_emb.astype(np.float64)
    out = np.empty((w, 2 * k + 1))
    for i in range(w):
        # torch.nn.functional.pairwise_distance adds eps=1e-6 to the difference.
        out[i] = np.linalg.norm(v[i][None, :] - padded[i : i + 2 * k + 1] + 1e-6, axis=1)
    return out


@dataclass
class ShiftStats:
    """Numbers derived from the shift distances (``SyncNetInstance.evaluate``).

    Attributes:
        mean_dist: ``(2K+1,)`` mean distance per shift (lag -K..K, audio late positive).
        best_lag: Lag with the smallest mean distance, in frames (audio late positive).
        lse_d: That smallest mean distance.
        lse_c: Median minus smallest mean distance.
        window_conf: ``(W,)`` per-window confidence, median-filtered over 9 windows.
    """

    mean_dist: np.ndarray
    best_lag: int
    lse_d: float
    lse_c: float
    window_conf: np.ndarray


def shift_stats(dists: np.ndarray) -> ShiftStats:
    """Best lag, LSE-D, LSE-C and per-window confidence from ``(W, 2K+1)`` distances."""
    from scipy.signal import medfilt

    k = (dists.shape[1] - 1) // 2
    mdist = dists.mean(axis=0)
    minidx = int(np.argmin(mdist))
    minval = float(mdist[minidx])
    median = float(np.median(mdist))
    fconf = median - dists[:, minidx]
    # Under 9 windows the kernel shrinks to the largest odd size that fits (scipy would pad).
    kernel = min(CONF_MEDIAN_KERNEL, len(fconf) if len(fconf) % 2 else len(fconf) - 1)
    fconfm = medfilt(fconf, kernel_size=max(1, kernel))
    # Column j pairs video i with audio i + j - K: the best audio is (j - K) windows later.
    return ShiftStats(mdist, minidx - k, minval, median - minval, fconfm.astype(np.float32))


def _load_expert(checkpoint, model, device):

    from lipcore.models.checkpoints import load_model, net_name_of
    from lipcore.models.device import pick_device

    dev = pick_device(device)
    if model is None:
        if checkpoint is None:
            raise LipsyncError(
                "expert scoring needs a checkpoint",
                fix="pass lipsync_expert.pth or syncnet_v2.model (or use the built-in meter)",
            )
        model = load_model(checkpoint, device=dev)
    name = net_name_of(model)
    if name not in METHODS:
        raise LipsyncError(
            f"{type(model).__name__} is not a sync expert",
            checkpoint,
            fix="pass lipsync_expert.pth (Wav2Lip) or syncnet_v2.model (joonson)",
        )
    model = model.to(dev).eval()
    return model, name, dev


def _embed_wav2lip(model, crops, mels, dev, batch_size) -> tuple[np.ndarray, np.ndarray]:
    import torch

    n_win = len(crops) - WINDOW_FRAMES + 1
    lower = crops[:, crops.shape[1] // 2 :]  # (N, 48, 96, 3)
    v_out, a_out = [], []
    with torch.inference_mode():
        for a in range(0, n_win, batch_size):
            idx = np.arange(a, min(a + batch_size, n_win))
            # 5 frames stacked on channels, frame-major BGR: (B, 48, 96, 15) -> (B, 15, 48, 96)
            stack = np.concatenate([lower[idx + t] for t in range(WINDOW_FRAMES)], axis=3)
            faces = torch.from_numpy(stack).to(dev).permute(0, 3, 1, 2).float() / 255.0
            mel = torch.from_numpy(mels[idx]).to(dev).unsqueeze(1)
            audio_e, face_e = model(mel, faces)
            v_out.append(face_e.float().cpu().numpy())
            a_out.append(audio_e.float().cpu().numpy())
    return np.concatenate(v_out), np.concatenate(a_out)


def _embed_v2(model, crops, mfcc, starts, dev, batch_size) -> tuple[np.ndarray, np.ndarray]:
    import torch

    n_win = len(starts)
    v_out, a_out = [], []
    with torch.inference_mode():
        for a in range(0, n_win, batch_size):
            idx = np.arange(a, min(a + batch_size, n_win))
            clips = np.stack([crops[i : i + WINDOW_FRAMES] for i in idx])  # (B, 5, H, W, 3)
            lips = torch.from_numpy(clips).to(dev).permute(0, 4, 1, 2, 3).float()  # raw 0-255
            cc = np.stack([mfcc[:, s : s + MFCC_WINDOW_STEPS] for s in starts[idx]])
            aud = torch.from_numpy(cc.astype(np.float32)).to(dev).unsqueeze(1)  # (B,1,13,20)
            v_out.append(model.forward_lip(lips).float().cpu().numpy())
            a_out.append(model.forward_aud(aud).float().cpu().numpy())
    return np.concatenate(v_out), np.concatenate(a_out)


def score_crops(
    crops: np.ndarray,
    audio_16k: np.ndarray,
    fps: Fraction | float,
    checkpoint: str | os.PathLike | None = None,
    *,
    model=None,
    frames: np.ndarray | None = None,
    device: str | None = None,
    max_offset: int = DEFAULT_MAX_OFFSET,
    batch_size: int = 16,
) -> SyncScore:
    """Score face crops of consecutive frames against an audio track with a SyncNet expert.

    Args:
        crops: ``(N, S, S, 3)`` uint8 BGR face crops of consecutive frames: 96x96 Wav2Lip-style
            face boxes for the Wav2Lip expert (see :func:`crop_wav2lip_face`), 224x224 for
            syncnet_v2 (see :func:`crop_v2_face`); other sizes are resized.
        audio_16k: Mono float audio at 16 kHz in [-1, 1]; sample 0 plays with frame 0.
        fps: Video frame rate.
        checkpoint: ``lipsync_expert.pth`` or ``syncnet_v2.model`` (format detected).
        model: An already loaded expert instead of ``checkpoint``.
        frames: ``(N,)`` absolute frame indices of the crops (default ``0..N-1``).
        device: Device override.
        max_offset: Lags searched either side, in frames.
        batch_size: Windows per forward pass.

    Returns:
        The score, per-frame confidence at the centre frame of each 5-frame window (NaN at the
        two frames at each end).

    Raises:
        LipsyncError: Fewer than 5 frames, or not a sync expert.
        CheckpointError: Unusable checkpoint.
    """
    from lipcore.audio.mel import mel_windows, wav2lip_mel
    from lipcore.timebase import as_fps

    fps = as_fps(fps)
    crops = np.asarray(crops)
    n = len(crops)
    frames = np.arange(n) if frames is None else np.asarray(frames, np.int64)
    if len(frames) != n:
        raise ValueError("frames and crops differ in length")
    if n and np.any(np.diff(frames) != 1):
        raise ValueError("crops must be of consecutive frames")
    if n < WINDOW_FRAMES + 1:
        raise LipsyncError(f"need at least {WINDOW_FRAMES + 1} frames with a face, got {n}")
    expert, name, dev = _load_expert(checkpoint, model, device)
    audio = np.asarray(audio_16k, np.float32)
    if name == "syncnet":
        from lipcore.engines.base import resize_crops

        crops = resize_crops(crops, WAV2LIP_CROP_PX)
        n_win = n - WINDOW_FRAMES + 1
        mel = wav2lip_mel(audio)
        mels = mel_windows(mel, frames[:n_win], fps)  # (W, 80, 16)
        video_emb, audio_emb = _embed_wav2lip(expert, crops, mels, dev, batch_size)
    else:
        from lipcore.engines.base import resize_crops

        crops = resize_crops(crops, V2_CROP_PX)
        mfcc = psf_mfcc(np.clip(audio, -1.0, 1.0) * 32768.0, 16000).T  # (13, T)
        # As SyncNetInstance: only frames with a full audio frame, and its `lastframe = n - 5`.
        samples_per_frame = Fraction(16000) / fps
        audio_frames = int(Fraction(len(audio)) / samples_per_frame) - int(frames[0])
        n_win = min(n, audio_frames) - WINDOW_FRAMES
        if n_win < 1:
            raise LipsyncError("the audio is too short for the video frames to score")
        starts = np.array(
            [int(Fraction(int(f)) * MFCC_STEPS_PER_SEC / fps) for f in frames[:n_win]]
        )
        need = int(starts[-1]) + MFCC_WINDOW_STEPS
        if mfcc.shape[1] < need:
            mfcc = np.pad(mfcc, ((0, 0), (0, need - mfcc.shape[1])), mode="edge")
        video_emb, audio_emb = _embed_v2(expert, crops, mfcc, starts, dev, batch_size)
    stats = shift_stats(pairwise_shift_distances(video_emb, audio_emb, max_offset))
    per_frame = np.full(n, np.nan, np.float32)
    centre = WINDOW_FRAMES // 2
    per_frame[centre : centre + len(stats.window_conf)] = stats.window_conf
    return SyncScore(
        method=METHODS[name],
        offset_frames=stats.best_lag,
        confidence=stats.lse_c,
        per_frame=per_frame,
        frames=frames.copy(),
        lse_d=stats.lse_d,
        lse_c=stats.lse_c,
        lag_curve=(np.median(stats.mean_dist) - stats.mean_dist).astype(np.float32),
    )


# ---------------------------------------------------------------- from a video file


def _longest_run(frames: np.ndarray) -> tuple[int, int]:
    """Rows ``[a, b)`` of the longest run of consecutive frame indices."""
    if len(frames) == 0:
        return 0, 0
    breaks = np.nonzero(np.diff(frames) != 1)[0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks + 1, [len(frames)]])
    k = int(np.argmax(ends - starts))
    return int(starts[k]), int(ends[k])


def iter_face_crops(
    video: str | os.PathLike, frames: np.ndarray, boxes: np.ndarray, method: str
) -> Iterator[np.ndarray]:
    """Decode ``frames`` (consecutive) and cut the expert's face crop from each ``boxes`` row."""
    from lipcore.media.decode import VideoReader

    cut = crop_wav2lip_face if method == "syncnet-wav2lip" else crop_v2_face
    with VideoReader(video) as reader:
        for row, (_index, image) in enumerate(
            reader.iter_frames(int(frames[0]), int(frames[-1]) + 1)
        ):
            yield cut(image, boxes[row])


def iter_score_with_expert(
    video: str | os.PathLike,
    audio: str | os.PathLike | np.ndarray | None = None,
    checkpoint: str | os.PathLike | None = None,
    track=None,
    frames: tuple[int, int] | None = None,
    device: str | None = None,
    max_offset: int = DEFAULT_MAX_OFFSET,
) -> Generator[Progress, None, SyncScore]:
    """:func:`score_with_expert` as a progress generator (tracking, cutting crops, scoring).

    ``audio`` may also be mono float samples at 16 kHz (sample 0 plays with frame 0).

    Returns:
        The :class:`~lipcore.sync.types.SyncScore` (the generator's return value).
    """
    from lipcore.media.audio import clip_audio, load_audio
    from lipcore.media.probe import probe, require_video

    video = Path(video)
    expert, name, _dev = _load_expert(checkpoint, None, device)
    info = probe(video)
    fps = require_video(info).fps
    if isinstance(audio, np.ndarray):
        audio_16k = np.asarray(audio, np.float32)
    elif audio is not None:
        audio_16k = load_audio(audio, 16000)
    else:
        audio_16k = clip_audio(video, 16000, info=info)
    if track is None:
        from lipcore.face.select import choose_track
        from lipcore.face.track import TrackerSettings, iter_track_faces

        settings = TrackerSettings()
        if frames is not None:
            settings = TrackerSettings(start_frame=int(frames[0]), end_frame=int(frames[1]))
        tracks = yield from iter_track_faces(video, settings)
        if not tracks.tracks:
            raise NoFaceError("no face found", video, fix="pick a clip with a visible face")
        track = choose_track(tracks)
    rows = np.arange(len(track.frames))
    if frames is not None:
        rows = rows[(track.frames >= frames[0]) & (track.frames < frames[1])]
    a, b = _longest_run(track.frames[rows])
    rows = rows[a:b]
    if len(rows) < WINDOW_FRAMES + 1:
        raise NoFaceError(
            f"only {len(rows)} consecutive frames with the face; the expert needs 6 or more",
            video,
            fix="choose a longer range where the face is visible",
        )
    track_frames = track.frames[rows]
    boxes = smooth_boxes(track.boxes[rows])
    crops = []
    for crop in iter_face_crops(video, track_frames, boxes, METHODS[name]):
        crops.append(crop)
        if len(crops) % 25 == 0:
            yield Progress(len(crops), len(track_frames), "cutting face crops")
    yield Progress(0, 1, "scoring with the expert")
    score = score_crops(
        np.stack(crops),
        audio_16k,
        fps,
        model=expert,
        frames=track_frames,
        device=device,
        max_offset=max_offset,
    )
    yield Progress(1, 1, "scoring with the expert", chunk_sync=score.confidence)
    return score


def score_with_expert(
    video: str | os.PathLike,
    audio: str | os.PathLike | None = None,
    checkpoint: str | os.PathLike | None = None,
    track=None,
    frames: tuple[int, int] | None = None,
    device: str | None = None,
    max_offset: int = DEFAULT_MAX_OFFSET,
    show_progress: bool = False,
) -> SyncScore:
    """Score a clip's lip sync with a SyncNet expert checkpoint.

    Args:
        video: The clip.
        audio: Separate audio to score against (default: the clip's own track); its first
            sample plays with frame 0.
        checkpoint: ``lipsync_expert.pth`` (Wav2Lip) or ``syncnet_v2.model`` (joonson).
        track: The :class:`~lipcore.face.types.FaceTrack` to score (default: the main speaker
            from :func:`lipcore.face.track.track_faces` and
            :func:`lipcore.face.select.choose_track`).
        frames: ``(first, end)`` frame range (end exclusive) to score; default the whole track.
        device: Device override.
        max_offset: Lags searched either side, in frames.
        show_progress: Draw a progress bar on stderr.

    Returns:
        The score over the longest run of consecutive face frames in the range.

    Raises:
        NoFaceError: No face track, or fewer than 6 consecutive face frames.
        CheckpointError / MediaError: Unusable checkpoint or media.
    """
    gen = iter_score_with_expert(video, audio, checkpoint, track, frames, device, max_offset)
    return drain(gen, show_progress, "sync")
