"""Opening a clip or a dub without freezing the editor: probe in a worker thread, then apply.

``ffprobe`` takes 0.2-2 s per file on a loaded machine. Dropped or picked files are probed here
in a worker thread (the GUI thread keeps painting and answering); the probe's answer is
remembered by :func:`lipcore.media.probe.probe`, so the document edit that follows on the GUI
thread (``Document.open_video``, ``Document.add_audio_track``, the clip's timecode) finds it
without running ffprobe again. The document and its undo log are only touched on the GUI thread,
by the ``apply`` callback, in the order the requests came.

A file ffprobe cannot read is not an error here: ``apply`` runs anyway and the document method
reports it the usual way (a warning naming the file and the fix).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from editor.qt.workers import LipcoreWorker, start_worker

#: Suffixes that are not media (nothing to probe before applying).
NOT_MEDIA_SUFFIXES = frozenset({".lsproj"})


def _probe_all(paths: list[Path]) -> Iterator[str]:
    """Probe each media file (filling the probe memo); yields each file's name when done."""
    from lipcore.errors import LipsyncError
    from lipcore.media.probe import probe

    for path in paths:
        if path.suffix.lower() in NOT_MEDIA_SUFFIXES:
            continue
        try:
            probe(path)
        except LipsyncError:
            pass  # apply() runs the document method, which reports it with its fix
        yield path.name


class MediaIntake(QObject):
    """Probes files in a worker thread, then runs each request's ``apply`` on the GUI thread.

    Requests run one after another, so a clip and a dub dropped together (or in quick
    succession) are applied in the order given.

    Signals:
        busy_changed(bool busy, str names): True with the file names when a probe starts, False
            when it is done (just before its ``apply`` runs).
    """

    busy_changed = Signal(bool, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pending: deque[tuple[list[Path], Callable[[], Any]]] = deque()
        self._worker: LipcoreWorker | None = None
        self._closing = False

    @property
    def busy(self) -> bool:
        """Whether a probe runs or waits."""
        return self._worker is not None or bool(self._pending)

    def request(self, paths: list[Path], apply: Callable[[], Any]) -> None:
        """Probe ``paths`` off the GUI thread, then call ``apply()`` on it."""
        if self._closing:
            return
        self._pending.append(([Path(p) for p in paths], apply))
        self._start_next()

    def shutdown(self) -> None:
        """Drop waiting requests; a running probe finishes but applies nothing."""
        self._closing = True
        self._pending.clear()

    def _start_next(self) -> None:
        if self._worker is not None:
            return
        if not self._pending or self._closing:
            return
        paths, apply = self._pending[0]
        self.busy_changed.emit(True, ", ".join(p.name for p in paths))
        self._worker = start_worker(
            self,
            lambda: _probe_all(paths),
            on_yielded=lambda _name: None,
            on_returned=lambda _value: None,
            on_errored=lambda _exc: None,  # apply() reports unreadable files
            on_finished=self._on_probed,
        )

    def _on_probed(self) -> None:
        self._worker = None
        if self._closing or not self._pending:
            return
        _paths, apply = self._pending.popleft()
        self.busy_changed.emit(False, "")  # before apply: its prompts get a normal cursor
        try:
            apply()
        finally:
            self._start_next()
