"""Pay a render's one-time start-up costs before the first render asks for them.

In a fresh process the first segment render spent about 11 s on an idle machine before its first
frame, mostly importing SciPy's signal package and librosa and loading librosa's numba kernels
for the first mel spectrogram; the mel front end is now NumPy (:mod:`lipcore.audio.melbank`),
and what is left loads at first use: SciPy's Delaunay triangulation for the morph, OpenCV's
kernels, the feature code. :func:`preload_render` does the same work on a few samples of
silence, so an editor that runs it in its render process when a clip opens
(:meth:`editor.model.job_process.JobProcess.warm_up`) finds them loaded at the first edit, and
the first re-render costs what every later one costs. Nothing it computes is kept; the imports
and the compiled kernels are what stay.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from lipcore.progress import Progress

#: The steps, in the order they run.
STEPS = ("mel spectrogram", "audio features", "mouth warp", "frame warps")


def preload_render() -> Generator[Progress, None, int]:
    """Import and exercise what a first segment render would (yields one step at a time).

    Yields:
        Progress per step (cancel = stop iterating; what ran stays loaded).

    Returns:
        The number of steps run.
    """
    n = len(STEPS)
    yield Progress(0, n, STEPS[0])
    from lipcore.audio.mel import wav2lip_mel

    silence = np.zeros(1600, np.float32)  # 0.1 s at 16 kHz
    wav2lip_mel(silence)
    yield Progress(1, n, STEPS[1])
    from lipcore.audio.features import spectral_features

    spectral_features(silence, 25, 2)
    yield Progress(2, n, STEPS[2])
    from lipcore.face.warp import warp_image

    square = np.float32([[1, 1], [6, 1], [1, 6], [6, 6], [3, 3]])
    moved = square.copy()
    moved[4] += 0.5
    warp_image(np.zeros((8, 8, 3), np.uint8), square, moved)
    yield Progress(3, n, STEPS[3])
    import cv2

    from lipcore.render.window_warp import warp_affine_window

    img = np.zeros((8, 8, 3), np.uint8)
    eye = np.float32([[1, 0, 0.25], [0, 1, 0.25]])
    cv2.warpAffine(img, eye, (8, 8), flags=cv2.INTER_CUBIC)
    warp_affine_window(img, eye, (1, 1, 7, 7))
    yield Progress(n, n, "ready")
    return n


__all__ = ["STEPS", "preload_render"]
