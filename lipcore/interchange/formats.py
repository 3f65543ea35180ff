"""The one registry of edit-list formats: name -> file suffix, writer and OTIO adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lipcore.cache import atomic_write_bytes
from lipcore.errors import LipsyncError
from lipcore.interchange.cut import Cut
from lipcore.interchange.edl import cut_to_edl
from lipcore.interchange.otio_json import cut_to_otio
from lipcore.interchange.xmeml import cut_to_xmeml


@dataclass(frozen=True)
class TimelineFormat:
    """An edit-list format.

    Attributes:
        name: Name on the command line.
        suffix: File suffix.
        write: Cut -> file text.
        otio_adapter: OpenTimelineIO adapter that reads it back.
        label: What it is, for help texts.
    """

    name: str
    suffix: str
    write: Callable[[Cut], str]
    otio_adapter: str
    label: str


FORMATS: dict[str, TimelineFormat] = {
    f.name: f
    for f in (
        TimelineFormat("edl", ".edl", cut_to_edl, "cmx_3600", "CMX3600 EDL"),
        TimelineFormat(
            "fcpxml", ".xml", cut_to_xmeml, "fcp_xml", "Final Cut Pro 7 XML (xmeml v5)"
        ),
        TimelineFormat("otio", ".otio", cut_to_otio, "otio_json", "OpenTimelineIO JSON"),
    )
}


def format_named(name: str) -> TimelineFormat:
    """The format called ``name`` (LipsyncError listing the known ones otherwise)."""
    try:
        return FORMATS[name]
    except KeyError:
        raise LipsyncError(
            f"unknown timeline format {name!r}", fix=f"use one of {', '.join(FORMATS)}"
        ) from None


def format_of_path(path: str | Path) -> TimelineFormat:
    """The format a file's suffix names (``.edl``, ``.xml``, ``.otio``)."""
    suffix = Path(path).suffix.lower()
    for f in FORMATS.values():
        if f.suffix == suffix:
            return f
    raise LipsyncError(
        f"cannot tell the edit-list format of {Path(path).name}",
        path,
        "use a .edl, .xml (FCP 7 XML) or .otio file",
    )


def write_cut(cut: Cut, fmt: str, output: str | Path) -> Path:
    """Write ``cut`` as format ``fmt`` to ``output`` atomically.

    Args:
        cut: The edit list.
        fmt: A name in :data:`FORMATS`.
        output: Target file.

    Returns:
        The path written.
    """
    output = Path(output)
    atomic_write_bytes(output, format_named(fmt).write(cut).encode("utf-8"))
    return output
