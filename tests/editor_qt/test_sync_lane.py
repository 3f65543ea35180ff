"""The sync lane on the real 3 s A05 clip with the B19 dub: the source curve appears when the dub
arrives after the faces, a short segment says why it has no curve, an offset at the edge of the
search range reads as no evidence, the lane has a scale, and result curves survive a reopen."""

from __future__ import annotations

import dataclasses

import numpy as np


def test_sync_lane_source_short_segments_edge_scale_and_reopen(
    window, make_window, clip_3s, dub_wav, qtbot, tmp_path
):
    w = window
    plot = w.timeline.sync_plot
    assert w.open_video(clip_3s)
    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    assert plot.source is None, "no dub yet: nothing to score"

    # The dub arrives after the faces: the source curve follows without any other action.
    with qtbot.waitSignal(
        w.sync_curve_ready, timeout=120000, check_params_cb=lambda k: k == "source"
    ):
        assert w.import_audio(dub_wav)
    assert plot.source is not None and np.isfinite(plot.source).sum() > 20
    assert plot.status.isVisible() and "source:" in plot.status.text()

    # The scale: +1 above 0 above -1, inside the lane.
    ticks = dict(plot.scale.tick_positions())
    assert 0 <= ticks["+1"] < ticks["0"] < ticks["−1"] <= plot.scale.height()

    # A short segment (8 frames) and a normal one (40 frames), both rendered.
    short = w.document.add_segment(4, 12)
    long = w.document.add_segment(30, 70)
    done: list[str] = []
    w.segment_rendered.connect(lambda sid, _p: done.append(sid))
    with qtbot.waitSignal(w.sync_curve_ready, timeout=300000, check_params_cb=lambda k: k == long):
        assert w.render_segments([short, long]) == 2
    qtbot.waitUntil(lambda: set(done) == {short, long}, timeout=60000)
    text = plot.status.text()
    assert "segment 4–12: 8 f is too short for a sync curve" in text, text
    assert "failed" not in w.notifications.last.text
    result = plot.result
    inside = result[30:70]
    assert np.isfinite(inside).sum() >= 20, "the 40-frame render has a per-frame curve"
    assert np.isnan(result[:30]).all() and np.isnan(result[70:]).all()
    assert np.isnan(result[4:12]).all()

    # An offset at the edge of the search range is no evidence: no curve, and the lane says so.
    real = w._sync_source
    k = (len(real.lag_curve) - 1) // 2
    w._sync_source = dataclasses.replace(real, offset_frames=k)
    w._refresh_sync_plot()
    assert f"source: no evidence (best lag at the ±{k} f search limit)" in plot.status.text()
    assert np.isnan(plot.source).all()
    w.set_view_mode("original")
    frame = int(real.frames[len(real.frames) // 2])
    w.playback.seek(frame)
    w._refresh_badge()
    assert "no evidence" in (w.viewer._badge or "")
    w._sync_source = real
    w._refresh_sync_plot()

    # Result curves come back after reopening the project.
    project = w.save_project(tmp_path / "sync.lsproj")
    again = make_window()
    with qtbot.waitSignal(
        again.sync_curve_ready, timeout=120000, check_params_cb=lambda key: key == long
    ):
        assert again.open_project(project)
    back = again.timeline.sync_plot.result
    assert back is not None and np.isfinite(back[30:70]).sum() >= 20
    assert "too short" in again.timeline.sync_plot.status.text()


def test_the_sync_expert_preference_rescored_the_lane(window, clip_3s, dub_wav, qtbot, tmp_path):
    """Preferences' "Sync expert checkpoint" is what the lane scores with, once it is set."""
    import torch

    from lipcore.models.checkpoints import save_public_checkpoint
    from lipcore.models.syncnet import SyncNet, SyncNetConfig

    w = window
    assert w.open_video(clip_3s)
    qtbot.waitUntil(lambda: w.trackset is not None, timeout=120000)
    with qtbot.waitSignal(
        w.sync_curve_ready, timeout=120000, check_params_cb=lambda k: k == "source"
    ):
        assert w.import_audio(dub_wav)
    assert w._sync_source.method == "builtin-av-correlation"

    torch.manual_seed(0)
    w.settings.expert_checkpoint = str(
        save_public_checkpoint(SyncNet(SyncNetConfig(base_channels=4)).eval(), tmp_path / "e.pth")
    )
    with qtbot.waitSignal(
        w.sync_curve_ready, timeout=120000, check_params_cb=lambda k: k == "source"
    ):
        w._rescore_sync_lane()
    assert w._sync_source.method == "syncnet-wav2lip"
    assert "syncnet-wav2lip" in w.timeline.sync_plot._method.text()
