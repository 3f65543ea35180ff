"""Decoded frames that keep their source YUV 4:2:0 planes, and patches written back into them.

A full render changes only a rectangle of each frame (the lower face), yet converting every
whole frame BGR -> YUV 4:4:4 for the encoder pipe, and letting the encoder resample the chroma
to 4:2:0, costs about 3 ms per 720p frame on this machine and blurs the chroma of pixels nobody
touched. Here a frame decoded from an 8-bit 4:2:0 source keeps its planes
(:class:`SourceFrame`, a BGR array that carries them), and :func:`patched_planes` writes a
render's patch into copies of them: only the pixels the patch changed get new luma, only the
2x2 blocks holding a changed pixel get new chroma (the block's mean, from the same matrix the
decoder used), and every other sample is the source's own. The encoder then takes ``yuv420p``
as it is, like a plain ffmpeg decode + encode of the clip.
"""

from __future__ import annotations

import numpy as np

from lipcore.media.colour import Colour, _yuv_from_rgb

_ONES = np.ones((1, 3), np.float32)
#: ``((x0, y0, x1, y1), pixels)``: new BGR pixels of a rectangle of the frame, or None.
Patch = tuple[tuple[int, int, int, int], np.ndarray] | None


class SourceFrame(np.ndarray):
    """A decoded ``(H, W, 3)`` uint8 BGR frame that also holds the source's Y, U and V planes.

    Only the array the decoder made carries them: any view, slice, copy or result of arithmetic
    is a frame without planes (``planes`` is None), so a frame changed in place elsewhere can
    never be encoded from its stale planes. The pipeline never modifies decoded frames.

    Attributes:
        planes: ``(Y (H, W), U (H/2, W/2), V (H/2, W/2))`` uint8, or None.
        colour: The matrix and range the BGR pixels were converted with.
    """

    planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    colour: Colour | None

    def __array_finalize__(self, obj) -> None:
        self.planes = None
        self.colour = None


def source_frame(bgr: np.ndarray, planes: tuple, colour: Colour) -> SourceFrame:
    """``bgr`` as a :class:`SourceFrame` carrying ``planes`` (kept as given, not copied)."""
    frame = bgr.view(SourceFrame)
    frame.planes = tuple(planes)
    frame.colour = colour
    return frame


def planes_of(frame: np.ndarray, colour: Colour) -> tuple[np.ndarray, ...] | None:
    """The source planes of ``frame`` when it carries 4:2:0 planes in ``colour``, else None."""
    planes = getattr(frame, "planes", None)
    if planes is None or getattr(frame, "colour", None) != colour:
        return None
    y, u, v = planes
    h, w = frame.shape[:2]
    if y.shape != (h, w) or u.shape != (h // 2, w // 2) or h % 2 or w % 2:
        return None
    return planes


def patched_planes(
    frame: np.ndarray, planes: tuple[np.ndarray, ...], patch: Patch, colour: Colour
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U, V planes of ``frame`` with ``patch`` written in (the source planes elsewhere).

    Args:
        frame: The decoded BGR frame the patch was made on (its pixels are the unchanged ones).
        planes: Its source planes (:func:`planes_of`); not modified.
        patch: ``((x0, y0, x1, y1), pixels)`` or None (the planes are returned as they are).
        colour: The matrix and range of the planes.

    Returns:
        Contiguous ``(H, W)``, ``(H/2, W/2)``, ``(H/2, W/2)`` uint8 planes.
    """
    import cv2

    y, u, v = planes
    if patch is None:
        return y, u, v
    (x0, y0, x1, y1), pixels = patch
    h, w = y.shape
    # The rectangle grown to whole 2x2 chroma blocks; the margin keeps the frame's pixels.
    ex0, ey0 = x0 & ~1, y0 & ~1
    ex1, ey1 = min(w, (x1 + 1) & ~1), min(h, (y1 + 1) & ~1)
    old = np.asarray(frame[ey0:ey1, ex0:ex1])
    region = old.copy()
    region[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = pixels
    rh, rw = region.shape[:2]
    # A pixel changed where any channel differs; a chroma block where any of its 4 pixels did.
    # (the sum of the channels' differences, saturated: 0 only where all three are equal)
    changed = cv2.transform(cv2.absdiff(region, old), _ONES) > 0
    if not changed.any():
        return y, u, v
    blocks = changed.reshape(rh // 2, 2, rw // 2, 2).any(axis=(1, 3))
    yuv = cv2.split(cv2.transform(region, _yuv_from_rgb(colour)))  # rounded, saturated
    y_out = y.copy()
    np.copyto(y_out[ey0:ey1, ex0:ex1], yuv[0], where=changed)
    out = [y_out]
    for plane, c in ((u, 1), (v, 2)):
        chroma = plane.copy()
        mean = cv2.resize(yuv[c], (rw // 2, rh // 2), interpolation=cv2.INTER_AREA)
        np.copyto(chroma[ey0 // 2 : ey1 // 2, ex0 // 2 : ex1 // 2], mean, where=blocks)
        out.append(chroma)
    return out[0], out[1], out[2]


def bgr_to_yuv420_planes(
    bgr: np.ndarray, colour: Colour
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A frame without source planes -> Y and 2x2-mean U, V planes (even sizes only)."""
    import cv2

    yuv = cv2.transform(np.ascontiguousarray(bgr), _yuv_from_rgb(colour))
    h, w = bgr.shape[:2]
    y, u, v = cv2.split(yuv)
    size = (w // 2, h // 2)
    return (
        y,
        cv2.resize(u, size, interpolation=cv2.INTER_AREA),
        cv2.resize(v, size, interpolation=cv2.INTER_AREA),
    )
