"""lipcore's command-line advice is reworded for the editor: no ``--flag`` reaches the GUI."""

from __future__ import annotations

from pathlib import Path

import pytest

from editor.model.gui_wording import FLAG, gui_wording
from lipcore.errors import LipsyncError

# The advice texts lipcore writes (see the files named), as str(LipsyncError) shows them.
LIPCORE_TEXTS = [
    # lipcore/engines/wav2lip.py
    "the wav2lip engine needs generator weights "
    "(pass --checkpoint path/to/wav2lip_gan.pth (or wav2lip.pth))",
    # lipcore/engines/registry.py
    "the retime engine is not available in this installation (x) "
    "(use --engine wav2lip with a checkpoint, or reinstall lipsync)",
    # lipcore/engines/retime.py (three footage checks)
    "clip.mp4: the footage has no audio, so ... (add footage of the same actor speaking with "
    "--footage, or use an engine with a checkpoint (--engine wav2lip))",
    "clip.mp4: only 1.0 s of footage shows the face while speaking (use a longer part of the "
    "clip, or add footage of the same actor speaking with --footage)",
    "clip.mp4: the footage has no open mouth (add footage of the same actor speaking, with "
    "pauses, with --footage)",
    # lipcore/models/device.py
    "CUDA was requested but is not available (use --device cpu, or install a CUDA build of "
    "PyTorch)",
    "Apple MPS was requested but is not available (use --device cpu)",
    # lipcore/render/pipeline.py
    "the new audio is 2.01 s longer than the picture and was cut "
    "(--long-audio hold|loop|pingpong extends the picture instead)",
    "clip.mp4: bad range (check the --segment ranges)",
    # lipcore/face/select.py and lipcore/face/insightface.py
    "clip.mp4: no face was found in the clip (use a clip where the face is visible and at least "
    "~40 px wide, or try --backend insightface)",
    "clip.mp4: no face was found in the clip (use a clip where the face is visible, lit and at "
    "least ~40 px wide, or point a face the detector cannot fit (cartoon, CGI) out by hand with "
    "--face-box X,Y,W,H)",
    "clip.mp4: no face track inside the region (0, 0, 9, 9) (enlarge the region or choose a "
    "track id (see `lipsync faces`))",
    "models: missing (put w600k_r50.onnx), pass --model-dir DIR, or use --backend mediapipe)",
]


@pytest.mark.parametrize("text", LIPCORE_TEXTS)
def test_no_command_line_flag_is_left(text):
    out = gui_wording(text)
    assert not FLAG.search(out), out
    assert "lipsync faces" not in out


def test_checkpoint_and_device_advice_points_at_preferences(tmp_path):
    from lipcore.models.checkpoints import load_wav2lip
    from lipcore.models.device import pick_device

    with pytest.raises(LipsyncError) as missing:
        load_wav2lip(Path(tmp_path / "nope.pth"))
    assert "--checkpoint" in str(missing.value)
    assert "Edit ▸ Preferences" in gui_wording(str(missing.value))
    assert "Edit ▸ Preferences" in gui_wording(LIPCORE_TEXTS[0])
    assert "Device to cpu in Edit ▸ Preferences" in gui_wording(LIPCORE_TEXTS[6])
    try:
        pick_device("mps")
    except LipsyncError as exc:  # no MPS on this machine: the real message
        assert not FLAG.search(gui_wording(str(exc)))


def test_messages_without_cli_advice_are_unchanged():
    text = "clip.mp4: cannot decode frame 12 (re-encode the clip)"
    assert gui_wording(text) == text


def test_no_face_advice_points_at_the_face_box_tool():
    from fractions import Fraction

    from lipcore.face.select import choose_track
    from lipcore.face.types import TrackSet

    with pytest.raises(LipsyncError) as info:
        choose_track(TrackSet([], 50, Fraction(25), source=Path("/clips/cartoon.mp4")))
    cli = str(info.value)
    assert "cartoon.mp4" in cli and "--face-box X,Y,W,H" in cli
    gui = gui_wording(cli)
    assert "View ▸ Draw Face Box (Shift+B)" in gui and not FLAG.search(gui)
