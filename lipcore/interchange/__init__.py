"""Interchange with editing suites: edit lists (CMX3600 EDL, FCP 7 XML, OTIO) and their media.

:mod:`lipcore.interchange.cut` is the format-neutral edit list, :mod:`~.mezzanine` writes one
ProRes file per segment, :mod:`~.edl`, :mod:`~.xmeml` and :mod:`~.otio_json` write the formats,
:mod:`~.read` reads a cut back (through OpenTimelineIO's adapters) and :mod:`~.export` ties them
together for ``lipsync export-timeline``.
"""
