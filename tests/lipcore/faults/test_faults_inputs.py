"""Bad inputs from the fault corpus: cut-off files, pipes, devices, unwritable outputs, unsafe
checkpoints. Each is one line naming the file and the fix (exit 2), at once, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest
import torch
from fault_media import ffmpeg

from lipcore.errors import CheckpointError, MediaError
from lipcore.media.encode import VideoWriter
from lipcore.media.probe import probe
from lipcore.models.checkpoints import read_checkpoint


def _cli(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "lipcore.cli", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    return proc, time.monotonic() - t0


@pytest.fixture(scope="module")
def cut_faststart(talking_clip, tmp_path_factory):
    """A faststart MP4 (index at the front) cut to 45% of its bytes, as a broken download."""
    folder = tmp_path_factory.mktemp("cut")
    whole = folder / "whole.mp4"
    ffmpeg("-i", str(talking_clip), "-c", "copy", "-movflags", "+faststart", str(whole))
    data = whole.read_bytes()
    cut = folder / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.45)])
    return whole, cut


def test_probe_reports_a_cut_faststart_file_as_truncated(cut_faststart):
    whole, cut = cut_faststart
    assert probe(whole).video.frame_count == 80  # the complete file is fine
    counted = subprocess.run(  # independent count: the frames ffmpeg actually decodes
        ["ffprobe", "-v", "quiet", "-select_streams", "v:0", "-count_frames",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(cut)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    decodable = int(counted.stdout.strip())
    assert decodable < 60
    with pytest.raises(MediaError, match="truncated") as info:
        probe(cut)
    text = str(info.value)
    assert "lists 80 frames" in text
    in_file = int(re.search(r"only (\d+) of them", text).group(1))
    assert abs(in_file - decodable) <= 2
    proc, _ = _cli("probe", str(cut))
    assert proc.returncode == 2 and "truncated" in proc.stderr and "Traceback" not in proc.stderr


def test_a_fifo_as_input_is_refused_at_once(talking_clip, tmp_path):
    fifo = tmp_path / "stream.mp4"
    os.mkfifo(fifo)  # nobody writes to it: opening it would wait forever
    sync = ("sync", str(talking_clip), str(fifo), "-o", str(tmp_path / "o.mp4"))
    for args in (("probe", str(fifo)), sync):
        proc, seconds = _cli(*args, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert "is a pipe" in proc.stderr and "Traceback" not in proc.stderr
        assert seconds < 30
    assert not (tmp_path / "o.mp4").exists()


def test_a_device_is_not_called_empty():
    with pytest.raises(MediaError, match="is a device") as info:
        probe("/dev/zero")
    assert "empty" not in str(info.value)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
@pytest.mark.parametrize("where", ["/proc/out.mp4", "long"])
def test_an_output_that_cannot_be_created_is_refused_before_any_work(
    where, talking_clip, dub, tmp_path
):
    out = "/proc/out.mp4" if where == "/proc/out.mp4" else str(tmp_path / ("n" * 240 + ".mp4"))
    proc, seconds = _cli("sync", str(talking_clip), str(dub), "-o", out, "-q")
    assert proc.returncode == 2, proc.stderr
    assert "cannot be written there" in proc.stderr and "Traceback" not in proc.stderr
    assert seconds < 15  # before face tracking and rendering (which take ~10 s here)


def test_a_preview_that_cannot_be_written_is_refused_before_rendering(talking_clip, dub):
    proc, seconds = _cli("preview", str(talking_clip), str(dub), "-o", "/proc/sheet.png", "-q")
    assert proc.returncode == 2 and "cannot be written there" in proc.stderr, proc.stderr
    assert seconds < 15


def test_an_output_without_an_extension_is_worded_plainly(tmp_path):
    with pytest.raises(MediaError) as info:
        VideoWriter(tmp_path / "out", 64, 64, 25)
    assert "without an extension" in str(info.value) and "'no'" not in str(info.value)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo this would run",))


def test_an_unsafe_pickle_is_not_reported_as_truncated(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {}, "x": _RunsCode()}, path)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert "truncated" not in str(info.value)
    assert "Python object (posix.system)" in str(info.value)


def test_the_no_face_hint_only_names_options_of_the_command(tmp_path):
    clip = tmp_path / "bars.mp4"  # colour bars and a tone: no face anywhere
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3.2",
           "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=3.2",
           "-c:v", "libx264", "-c:a", "aac", "-shortest", str(clip))  # fmt: skip
    proc, _ = _cli("sync", str(clip), str(clip), "-o", str(tmp_path / "o.mp4"), "-q")
    assert proc.returncode == 2 and "no face" in proc.stderr, proc.stderr
    # One line naming the file and the way out for a face the detector cannot fit
    assert "Traceback" not in proc.stderr and "bars.mp4" in proc.stderr, proc.stderr
    assert "--face-box X,Y,W,H" in proc.stderr, proc.stderr
    assert not (tmp_path / "o.mp4").exists()
    help_text = _cli("sync", "--help")[0].stdout
    for option in re.findall(r"--[a-z][a-z-]+", proc.stderr):
        assert option in help_text, f"the hint suggests {option}, which sync does not accept"
