"""``lipsync-editor --self-test CLIP AUDIO``: drive the real window once, end to end, and quit.

Opens CLIP, imports AUDIO as a dub, adds one segment over the middle second of the clip, renders
it through the editor's own render queue, and prints one JSON line (segment, rendered file,
frames, seconds) before quitting with status 0, or 1 with the error. Used to check an installation
or a desktop bundle (``tests/e2e/test_bundle.py``) without a person clicking.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

#: Longest the self-test waits for its render before giving up, seconds.
TIMEOUT_SEC = 600


def run_self_test(window: Any, clip: Path, audio: Path) -> None:
    """Start the scripted session; the application quits when it has finished.

    Args:
        window: The shown :class:`~editor.qt.main_window.QtMainWindow`.
        clip: A video clip with a face.
        audio: The dub.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    started = time.monotonic()

    def finish(code: int, **fields: Any) -> None:
        fields["seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps({"ok": code == 0, **fields}), flush=True)
        window.close()  # stops and waits for the background workers, like a user quitting
        QApplication.exit(code)

    if not window.open_video(clip):
        finish(1, error=f"could not open {clip}")
        return
    track_id = window.import_audio(audio)
    if track_id is None:
        finish(1, error=f"could not import {audio}")
        return
    project = window.document.project
    fps = float(project.fps)
    middle = project.frame_count // 2
    start, end = max(0, middle - round(fps / 2)), min(project.frame_count, middle + round(fps / 2))
    segment_id = window.document.add_segment(start, end, track_id)

    def rendered(key: str, stored: Any) -> None:
        if key != segment_id:
            return
        from lipcore.media.probe import probe

        frames = probe(stored).video.frame_count
        finish(0, segment=key, output=str(stored), frames=frames, range=[start, end])

    def failed(key: str, _job: Any, exc: Any) -> None:
        if key == segment_id:
            finish(1, segment=key, error=str(exc))

    window.segment_rendered.connect(rendered)
    window.render_queue.job_failed.connect(failed)
    if window.render_segments([segment_id]) != 1:
        finish(1, error="the segment could not be queued (see the messages)")
        return
    QTimer.singleShot(TIMEOUT_SEC * 1000, lambda: finish(1, error="timed out"))
