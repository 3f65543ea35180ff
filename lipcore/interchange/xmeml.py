"""Final Cut Pro 7 XML (``xmeml`` version 5), the XML that Premiere Pro and Resolve import.

xmeml rather than FCPXML 1.x: Premiere Pro and DaVinci Resolve both import and export xmeml
directly, Premiere cannot read FCPXML without a converter, and FCPXML's main reader (Final Cut
Pro) is the one suite of the three the dubbing editors in our brief do not name. xmeml also
carries drop-frame timecode per file and per sequence (``displayformat`` DF/NDF), which this
writer sets, and per-file reels.

Each event becomes a video clipitem and an audio clipitem that share one ``file`` element; the
clipitem's ``in``/``out`` count from the file's first frame and ``start``/``end`` from the
sequence start, as xmeml defines them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from lipcore.interchange.cut import Cut, CutEvent


def _rate(parent: ET.Element, fps: Fraction) -> None:
    rate = ET.SubElement(parent, "rate")
    ET.SubElement(rate, "timebase").text = str(round(fps))
    ET.SubElement(rate, "ntsc").text = "TRUE" if fps.denominator == 1001 else "FALSE"


def _timecode(parent: ET.Element, cut: Cut, frame: int, reel: str | None = None) -> None:
    tc = ET.SubElement(parent, "timecode")
    _rate(tc, cut.fps)
    ET.SubElement(tc, "string").text = cut.tc(frame)
    ET.SubElement(tc, "frame").text = str(frame)
    ET.SubElement(tc, "displayformat").text = "DF" if cut.drop_frame else "NDF"
    if reel:
        ET.SubElement(ET.SubElement(tc, "reel"), "name").text = reel


def _file(parent: ET.Element, cut: Cut, ev: CutEvent, n: int, first: bool) -> None:
    f = ET.SubElement(parent, "file", id=f"file-{n}")
    if not first:
        return  # later uses refer to the element written with the video clipitem
    ET.SubElement(f, "name").text = ev.media.name if ev.media else ev.name
    if ev.media is not None:
        ET.SubElement(f, "pathurl").text = ev.media.as_uri()
    _rate(f, cut.fps)
    ET.SubElement(f, "duration").text = str(ev.media_frames)
    _timecode(f, cut, ev.media_start_frame, ev.reel)
    media = ET.SubElement(f, "media")
    video = ET.SubElement(media, "video")
    sc = ET.SubElement(video, "samplecharacteristics")
    _rate(sc, cut.fps)
    ET.SubElement(sc, "width").text = str(cut.width)
    ET.SubElement(sc, "height").text = str(cut.height)
    ET.SubElement(ET.SubElement(media, "audio"), "channelcount").text = "1"


def _clipitem(track: ET.Element, cut: Cut, ev: CutEvent, n: int, kind: str) -> None:
    item = ET.SubElement(track, "clipitem", id=f"clipitem-{kind}{n}")
    ET.SubElement(item, "name").text = ev.name
    ET.SubElement(item, "enabled").text = "TRUE"
    ET.SubElement(item, "duration").text = str(ev.media_frames)
    _rate(item, cut.fps)
    ET.SubElement(item, "start").text = str(ev.record_in_frame - cut.start_frame)
    ET.SubElement(item, "end").text = str(ev.record_out_frame - cut.start_frame)
    ET.SubElement(item, "in").text = str(ev.source_in_frame - ev.media_start_frame)
    ET.SubElement(item, "out").text = str(ev.source_out_frame - ev.media_start_frame)
    _file(item, cut, ev, n, first=kind == "v")
    if kind == "a":
        st = ET.SubElement(item, "sourcetrack")
        ET.SubElement(st, "mediatype").text = "audio"
        ET.SubElement(st, "trackindex").text = "1"
    if ev.text:
        comments = ET.SubElement(item, "comments")
        ET.SubElement(comments, "mastercomment1").text = ev.text


def cut_to_xmeml(cut: Cut) -> str:
    """The cut as an xmeml v5 document.

    Args:
        cut: The edit list.

    Returns:
        UTF-8 XML text with the ``<!DOCTYPE xmeml>`` line the suites expect.
    """
    root = ET.Element("xmeml", version="5")
    seq = ET.SubElement(root, "sequence", id="sequence-1")
    ET.SubElement(seq, "name").text = cut.name
    ET.SubElement(seq, "duration").text = str(cut.end_frame - cut.start_frame)
    _rate(seq, cut.fps)
    _timecode(seq, cut, cut.start_frame)
    media = ET.SubElement(seq, "media")
    video = ET.SubElement(media, "video")
    fmt = ET.SubElement(ET.SubElement(video, "format"), "samplecharacteristics")
    _rate(fmt, cut.fps)
    ET.SubElement(fmt, "width").text = str(cut.width)
    ET.SubElement(fmt, "height").text = str(cut.height)
    vtrack = ET.SubElement(video, "track")
    atrack = ET.SubElement(ET.SubElement(media, "audio"), "track")
    for n, ev in enumerate(cut.events, start=1):
        _clipitem(vtrack, cut, ev, n, "v")
        _clipitem(atrack, cut, ev, n, "a")
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n{body}\n'
