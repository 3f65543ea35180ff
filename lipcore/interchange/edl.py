"""CMX3600 edit decision lists: the lowest common denominator every editing suite reads.

One video event per cut event, with the clip name and the script line as comments (Premiere
Pro, Resolve and Media Composer relink by ``* FROM CLIP NAME``, or by reel and timecode). The
title and ``FCM`` lines say the timecode counting; at 23.976 timecode runs at a nominal 24.
"""

from __future__ import annotations

from lipcore.interchange.cut import Cut


def _comment(text: str) -> str:
    return " ".join(text.split())[:200]


def cut_to_edl(cut: Cut) -> str:
    """The cut as CMX3600 text.

    Args:
        cut: The edit list.

    Returns:
        EDL text (``\\n`` line ends, ASCII-safe comments).
    """
    lines = [f"TITLE: {_comment(cut.name)[:70]}"]
    lines.append(f"FCM: {'DROP FRAME' if cut.drop_frame else 'NON-DROP FRAME'}")
    lines.append("")
    for n, ev in enumerate(cut.events, start=1):
        lines.append(
            f"{n:03d}  {ev.reel:<8} V     C        "
            f"{cut.tc(ev.source_in_frame)} {cut.tc(ev.source_out_frame)} "
            f"{cut.tc(ev.record_in_frame)} {cut.tc(ev.record_out_frame)}"
        )
        lines.append(f"* FROM CLIP NAME: {ev.media.name if ev.media else ev.name}")
        if ev.media is not None:  # lets OTIO and Nucoda-style readers link the file itself
            lines.append(f"* FROM FILE: {ev.media}")
        if ev.text:
            lines.append(f"* COMMENT: {_comment(ev.text).encode('ascii', 'replace').decode()}")
        lines.append("")
    return "\n".join(lines)
