"""Edit > Align Dub to Guide on a real clip: a take read at the wrong pace is warped back.

The take is A05's own dialogue re-timed unevenly (first half 1.25x faster, second half 0.85x
slower, pitch kept by ffmpeg's atempo), placed on the clip; aligned to the original track, the
new track's loudness envelope follows the original's far better than the take's did.
"""

from __future__ import annotations

import subprocess

import numpy as np
from PySide6.QtWidgets import QMenu

from lipcore.media.audio import load_audio


def _envelope(x: np.ndarray) -> np.ndarray:
    n = len(x) // 160
    return np.log(np.sqrt((x[: n * 160].reshape(n, 160) ** 2).mean(axis=1)) + 1e-4)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def test_align_a_mistimed_take_to_the_original(opened, qtbot, clip_3s, tmp_path):
    w = opened
    take = tmp_path / "take.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip_3s), "-filter_complex",
         "[0:a]atrim=0:1.5,asetpts=PTS-STARTPTS,atempo=1.25[a];"
         "[0:a]atrim=1.5:3,asetpts=PTS-STARTPTS,atempo=0.85[b];[a][b]concat=n=2:v=0:a=1",
         "-ar", "48000", "-ac", "1", str(take)],
        check=True,
    )  # fmt: skip
    doc = w.document
    take_id = doc.add_audio_track(take, name="mistimed take")
    original_id = next(t.id for t in doc.project.audio_tracks if t.is_original)
    n_before = len(doc.project.audio_tracks)
    started: list = []
    w.background.model.listeners.append(
        lambda event, job: started.append(job.payload) if event == "started" else None
    )
    with qtbot.waitSignal(w.guide_tools.aligned, timeout=60000) as got:
        assert w.guide_tools.align(take_id, original_id)  # queued: the window stays live
    new_id = got.args[0]
    # It ran in the background worker process, not in a thread holding the GUI's GIL.
    from editor.model.job_process import ProcessCall

    assert any(isinstance(p, ProcessCall) for p in started) and w.background.process.pid
    assert len(doc.project.audio_tracks) == n_before + 1
    new = doc.track(new_id)
    assert new.name == "mistimed take aligned" and new.offset_samples == 0
    assert "ms on average" in got.args[1] and "x slower" in got.args[1]

    guide = load_audio(clip_3s, 16000)
    before = _corr(_envelope(load_audio(take, 16000)), _envelope(guide))
    after = _corr(_envelope(load_audio(new.media.path, 16000)), _envelope(guide))
    print(f"envelope correlation with the original: take {before:.2f}, aligned {after:.2f}")
    print(got.args[1])
    assert after > 0.8 and after > before + 0.15
    # one undo step removes the aligned track
    w.undo_action.trigger()
    assert new_id not in {t.id for t in doc.project.audio_tracks}
    # the Edit menu has the action
    menus = [m for m in w.nudge_left_action.associatedObjects() if isinstance(m, QMenu)]
    assert any(w.guide_tools.action in m.actions() for m in menus)
