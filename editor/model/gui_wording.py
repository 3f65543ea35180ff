"""Say lipcore's advice in the editor's words: no command-line flags in messages the GUI shows.

lipcore errors and warnings are written for the ``lipsync`` command ("pass --checkpoint …",
"use --device cpu"). In the editor the same choice is a preference, an inspector field or a
menu item, so :func:`gui_wording` rewrites each known piece of CLI advice into that. The table
is the one place that knows both vocabularies; a message without CLI advice passes unchanged.
"""

from __future__ import annotations

import re

PREFERENCES = "Edit ▸ Preferences"
_WAV2LIP = f"the wav2lip engine (inspector ▸ Engine) with its checkpoint set in {PREFERENCES}"

#: (pattern, replacement), applied in order; patterns match the texts lipcore produces.
_REWRITES: tuple[tuple[str, str], ...] = (
    (
        r"pass --checkpoint path/to/wav2lip_gan\.pth \(or wav2lip\.pth\)",
        f"set the Wav2Lip checkpoint (wav2lip_gan.pth or wav2lip.pth) in {PREFERENCES}",
    ),
    (r"check the path in --checkpoint / settings", f"check the checkpoint paths in {PREFERENCES}"),
    (r"pass --checkpoint[^;)]*", f"set the checkpoint in {PREFERENCES}"),
    (r"use --engine wav2lip with a checkpoint", f"use {_WAV2LIP}"),
    (
        r"add footage of the same actor speaking with --footage, or use an engine with a "
        r"checkpoint \(--engine wav2lip\)",
        f"use a segment from a longer clip where the actor speaks, or {_WAV2LIP}",
    ),
    (
        r"(add footage of the same actor speaking(?:, with pauses)?),? with --footage",
        rf"use a longer clip of the actor speaking (with pauses), or {_WAV2LIP}",
    ),
    (r"use --device cpu, or install", f"set Device to cpu in {PREFERENCES}, or install"),
    (r"use --device cpu", f"set Device to cpu in {PREFERENCES}"),
    (
        r"\(--long-audio hold\|loop\|pingpong extends the picture instead\)",
        "(slide or trim the dub)",
    ),
    (r"check the --segment ranges", "check the segments' in and out points"),
    (r",? or try\s+--backend insightface", ""),
    (r", pass --model-dir DIR, or use --backend mediapipe", ""),
    (r",? or use --backend mediapipe", ""),
    (
        r"out by hand with --face-box X,Y,W,H",
        "out by hand with View ▸ Draw Face Box (Shift+B) in the viewer",
    ),
    (r"\(see `lipsync faces`\)", "(click the face in the viewer)"),
    (r"choose a track id", "pick the face in the viewer"),
)
_COMPILED = tuple((re.compile(p), r) for p, r in _REWRITES)
#: What a left-over command-line flag looks like (for tests and a last-resort check).
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def gui_wording(text: str) -> str:
    """``text`` with command-line advice replaced by where the editor offers the same choice.

    Args:
        text: A message from lipcore (an error with its fix, or a warning).

    Returns:
        The message to show in the editor.
    """
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text
