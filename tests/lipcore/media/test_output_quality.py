"""The default output settings keep the untouched picture: a sharp real clip written back through
the default encode stays above 40 dB PSNR, and drafts are encoded with the fast preset."""

from __future__ import annotations

import numpy as np

from lipcore.media.decode import VideoReader
from lipcore.media.encode import DEFAULT_CRF, DRAFT_CRF, VideoWriter, x264_preset
from lipcore.media.probe import probe
from lipcore.render.request import RenderRequest

#: The sharpest in-sync shared clip (a plain CRF 18 re-encode already falls below 40 dB).
SHARP_CLIP = "A02"
FRAMES = 25


def _psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    se = sum(float(((x.astype(np.float64) - y) ** 2).sum()) for x, y in zip(a, b, strict=True))
    mse = se / sum(x.size for x in a)
    return 99.0 if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def test_default_encode_keeps_a_sharp_clip_above_40_db(shared_media, tmp_path):
    clip = next((shared_media / "video").glob(f"{SHARP_CLIP}_*"))
    with VideoReader(clip) as reader:
        frames = [f for _, f in reader.iter_frames(0, FRAMES)]
    info = probe(clip).video
    out = tmp_path / "back.mp4"
    with VideoWriter(out, info.width, info.height, info.fps, color_from=clip) as writer:
        assert writer.crf == DEFAULT_CRF and writer.preset == "medium"
        for f in frames:
            writer.write(f)
    with VideoReader(out) as reader:
        back = [f for _, f in reader.iter_frames(0, FRAMES)]
    assert _psnr(frames, back) >= 40.0


def test_renders_default_to_delivery_quality_and_drafts_to_the_fast_preset():
    assert RenderRequest(video="a.mp4", audio="b.wav", output="c.mp4").crf == DEFAULT_CRF
    assert x264_preset(DEFAULT_CRF) == "medium"
    assert x264_preset(DRAFT_CRF) == "veryfast"
