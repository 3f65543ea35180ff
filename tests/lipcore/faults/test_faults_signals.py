"""SIGTERM is handled like Ctrl-C: the render stops, no hidden temp file is left, and an earlier
output at the same path is untouched."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time


def test_a_killed_render_leaves_the_earlier_output_and_no_temp_file(talking_clip, dub, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "dubbed.mp4"
    out.write_bytes(talking_clip.read_bytes())  # "yesterday's render"
    before = hashlib.sha256(out.read_bytes()).hexdigest()
    env = {**os.environ, "LIPSYNC_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lipcore.cli", "sync", str(talking_clip), str(dub),
         "-o", str(out), "-q", "--segment", "0.5-3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        # Wait until the encoder is writing its hidden temp file: the kill lands mid-render.
        while not any(p.name.endswith(".partial.mp4") for p in out_dir.iterdir()):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the render never started encoding"
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)  # what `kill`, systemd and job schedulers send
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, stderr  # 128 + SIGTERM, after the Ctrl-C style unwinding
    assert "Traceback" not in stderr
    time.sleep(0.5)  # an orphaned encoder would still be writing now
    assert sorted(p.name for p in out_dir.iterdir()) == ["dubbed.mp4"]
    assert hashlib.sha256(out.read_bytes()).hexdigest() == before
