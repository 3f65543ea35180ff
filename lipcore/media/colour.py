"""YUV <-> BGR conversion with exact, mutually inverse matrices (one owner for both directions).

FFmpeg's swscale, which PyAV's ``to_ndarray("bgr24")`` and the ``ffmpeg`` command line use by
default, converts with fast fixed-point paths that are not each other's inverse: measured on A05,
decoding to BGR and encoding back moved the luma of every untouched pixel by -1.3 to -1.9 levels.
Here both directions use the same floating-point matrix (BT.601, BT.709 or BT.2020, limited or full
range, 8 or 10 bits), applied by OpenCV's ``cv2.transform`` with rounding, so a decoded frame
written back unchanged returns to the source's luma within the rounding of one 8-bit step.

Which matrix: the stream's ``colorspace`` tag; an untagged stream is taken as BT.709 when it is
HD (its short side at least 720 px) and BT.601 otherwise, as players show it. The range is the
stream's ``color_range`` tag, else full for the ``yuvj*`` formats and limited for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: ``(Kr, Kb)`` luma coefficients of each matrix.
KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722), "bt2020": (0.2627, 0.0593)}

#: FFmpeg ``colorspace`` names (ffprobe's ``color_space``) -> matrix; others count as untagged.
_TAG_MATRIX = {
    "bt709": "bt709",
    "smpte170m": "bt601",
    "bt470bg": "bt601",
    "fcc": "bt601",
    "bt2020nc": "bt2020",
    "bt2020ncl": "bt2020",
    "bt2020c": "bt2020",
}

#: libavutil's AVColorSpace codes (what PyAV frames carry) -> FFmpeg names.
_AVCOL_SPC = {1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc", 10: "bt2020c"}

#: Planar YUV formats converted here: name -> (chroma x shift, chroma y shift, bits, full range).
PLANAR_FORMATS = {
    "yuv420p": (1, 1, 8, False),
    "yuvj420p": (1, 1, 8, True),
    "yuv422p": (1, 0, 8, False),
    "yuvj422p": (1, 0, 8, True),
    "yuv444p": (0, 0, 8, False),
    "yuvj444p": (0, 0, 8, True),
    "yuv420p10le": (1, 1, 10, False),
    "yuv422p10le": (1, 0, 10, False),
    "yuv444p10le": (0, 0, 10, False),
}


@dataclass(frozen=True)
class Colour:
    """How a stream's YUV maps to RGB.

    Attributes:
        matrix: "bt601", "bt709" or "bt2020".
        full_range: Full (0-255) rather than limited (16-235/240) levels.
    """

    matrix: str
    full_range: bool

    @property
    def ffmpeg_colorspace(self) -> str:
        """The FFmpeg ``-colorspace`` name of the matrix."""
        return {"bt601": "smpte170m", "bt709": "bt709", "bt2020": "bt2020nc"}[self.matrix]

    @property
    def ffmpeg_range(self) -> str:
        """The FFmpeg ``-color_range`` name ("pc" or "tv")."""
        return "pc" if self.full_range else "tv"


def colour_of(
    colorspace: str | int | None,
    color_range: str | int | None,
    width: int,
    height: int,
    pix_fmt: str = "",
) -> Colour:
    """The colour of a stream from its tags (FFmpeg names or libavutil codes) and size.

    Args:
        colorspace: ``bt709``, ``smpte170m``... or the AVColorSpace code; None/unknown = untagged.
        color_range: ``tv``/``pc`` or the AVColorRange code (1 = limited, 2 = full).
        width: Coded or displayed width (the rule is symmetric under rotation).
        height: Height.
        pix_fmt: The pixel format (``yuvj*`` means full range when the range is untagged).
    """
    name = _AVCOL_SPC.get(colorspace, "") if isinstance(colorspace, int) else colorspace or ""
    matrix = _TAG_MATRIX.get(name)
    if matrix is None:
        matrix = "bt709" if min(width, height) >= 720 else "bt601"
    if color_range in ("pc", "jpeg", 2):
        full = True
    elif color_range in ("tv", "mpeg", 1):
        full = False
    else:
        full = pix_fmt.startswith("yuvj")
    return Colour(matrix, full)


@lru_cache(maxsize=32)
def _rgb_from_yuv(colour: Colour, bits: int) -> np.ndarray:
    """3x4 affine matrix: [Y, U, V, 1] at ``bits`` -> [B, G, R] in 0..255."""
    kr, kb = KR_KB[colour.matrix]
    kg = 1.0 - kr - kb
    scale = float(1 << (bits - 8))
    if colour.full_range:
        y_gain, c_gain, y_off = 255.0, 255.0, 0.0
    else:
        y_gain, c_gain, y_off = 219.0, 224.0, 16.0
    # Normalised: Y' = (Y/scale - y_off) / y_gain, Pb = (U/scale - 128) / c_gain.
    ys, cs = 255.0 / (y_gain * scale), 255.0 / (c_gain * scale)
    r = [ys, 0.0, 2 * (1 - kr) * cs]
    b = [ys, 2 * (1 - kb) * cs, 0.0]
    g = [ys, -2 * (1 - kb) * kb / kg * cs, -2 * (1 - kr) * kr / kg * cs]
    rows = np.array([b, g, r], np.float64)
    offsets = -rows[:, 0] * y_off * scale - (rows[:, 1] + rows[:, 2]) * 128.0 * scale
    return np.hstack([rows, offsets[:, None]]).astype(np.float32)


@lru_cache(maxsize=32)
def _yuv_from_rgb(colour: Colour) -> np.ndarray:
    """3x4 affine matrix: [B, G, R, 1] in 0..255 -> 8-bit [Y, U, V]; the inverse of the above."""
    m = _rgb_from_yuv(colour, 8).astype(np.float64)
    inverse = np.linalg.inv(np.vstack([m, [0.0, 0.0, 0.0, 1.0]]))
    return inverse[:3].astype(np.float32)


def planes_to_bgr(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, colour: Colour, bits: int = 8
) -> np.ndarray:
    """Planar YUV (any chroma subsampling, 8 or 10 bits) -> ``(H, W, 3)`` uint8 BGR.

    Chroma is upsampled bilinearly to the luma size; the matrix is applied with rounding and
    saturation.
    """
    import cv2

    h, w = y.shape
    if u.shape != (h, w):
        u = cv2.resize(u, (w, h), interpolation=cv2.INTER_LINEAR)
        v = cv2.resize(v, (w, h), interpolation=cv2.INTER_LINEAR)
    bgr = cv2.transform(cv2.merge([y, u, v]), _rgb_from_yuv(colour, bits))
    return bgr if bgr.dtype == np.uint8 else np.clip(bgr, 0, 255).astype(np.uint8)


def bgr_to_yuv444(bgr: np.ndarray, colour: Colour) -> np.ndarray:
    """``(H, W, 3)`` uint8 BGR -> planar 8-bit YUV 4:4:4 bytes layout ``(3, H, W)`` uint8."""
    return np.stack(bgr_to_yuv444_planes(bgr, colour))


def bgr_to_yuv444_planes(bgr: np.ndarray, colour: Colour) -> list[np.ndarray]:
    """``(H, W, 3)`` uint8 BGR -> the Y, U and V planes, each ``(H, W)`` uint8 and contiguous.

    What an encoder pipe takes for ``yuv444p``, written plane after plane (``cv2.split`` is
    about 3x faster than a transposed copy into one ``(3, H, W)`` array).
    """
    import cv2

    yuv = cv2.transform(np.ascontiguousarray(bgr), _yuv_from_rgb(colour))
    return list(cv2.split(yuv))


def _frame_colour(av_frame) -> Colour:
    """The matrix and range a PyAV frame's pixels are in (see :func:`colour_of`)."""
    return colour_of(
        av_frame.colorspace,
        av_frame.color_range,
        av_frame.width,
        av_frame.height,
        av_frame.format.name,
    )


def _frame_plane_views(av_frame, dtype: np.dtype) -> list[np.ndarray]:
    """A PyAV frame's first three planes as ``(height, width)`` views of its buffers."""
    planes = []
    for plane in av_frame.planes[:3]:
        row = plane.line_size // dtype.itemsize
        arr = np.frombuffer(plane, dtype=dtype).reshape(-1, row)[: plane.height, : plane.width]
        planes.append(arr)
    return planes


def frame_planes(av_frame):
    """An 8-bit 4:2:0 PyAV frame -> a BGR :class:`~lipcore.media.planar.SourceFrame` that keeps
    copies of its Y, U and V planes (the BGR pixels are exactly :func:`frame_to_bgr`'s)."""
    from lipcore.media.planar import source_frame

    colour = _frame_colour(av_frame)
    views = _frame_plane_views(av_frame, np.dtype(np.uint8))
    planes = [np.ascontiguousarray(arr) for arr in views]
    return source_frame(planes_to_bgr(*planes, colour, 8), planes, colour)


def frame_to_bgr(av_frame, colour: Colour | None = None) -> np.ndarray | None:
    """A PyAV frame in a :data:`PLANAR_FORMATS` format -> BGR, or None for other formats."""
    spec = PLANAR_FORMATS.get(av_frame.format.name)
    if spec is None:
        return None
    _, _, bits, _ = spec
    dtype = np.dtype(np.uint8) if bits == 8 else np.dtype("<u2")
    planes = _frame_plane_views(av_frame, dtype)
    if colour is None:
        colour = _frame_colour(av_frame)
    return planes_to_bgr(*planes, colour, bits)
