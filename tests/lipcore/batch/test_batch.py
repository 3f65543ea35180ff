"""Batches on Dask: a two-job batch on a two-worker LocalCluster, interrupted and resumed.

Real renders of shared clips (scaled down so two fit the shared CPU), a real ``lipsync batch``
process killed mid-batch, then the same command again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lipcore.batch.job import read_state
from lipcore.batch.manifest import load_manifest
from lipcore.cli import main
from lipcore.errors import LipsyncError

REPO = Path(__file__).resolve().parents[3]
SHORT = "video/A05_frontal_woman_flagbg_590p25_retalking3.mp4"  # 5 s
LONG = "video/A01_frontal_news_hdtf_WDA_AOC_512p25_sadtalker.mp4"  # 8 s (200 frames cut)
SPEECH = "audio/B01_en_hdtf_RD_Radio31_16k.wav"


def _small(src: Path, out: Path, seconds: float) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(src),
            "-t",
            str(seconds),
            "-vf",
            "scale=256:256",
            "-c:v",
            "libx264",
            "-crf",
            "12",
            "-c:a",
            "aac",
            str(out),
        ],
        check=True,
    )
    return out


def _events(text: str) -> list[dict]:
    return [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]


def test_manifest_errors_name_the_job_and_the_fix(tmp_path, shared_media):
    (tmp_path / "m.toml").write_text(
        f'[[jobs]]\nclip = "{shared_media / SHORT}"\noutput = "o.mp4"\nmouth = 1\n'
    )
    with pytest.raises(LipsyncError, match=r"job 1 has unknown key\(s\) \['mouth'\]"):
        load_manifest(tmp_path / "m.toml")
    (tmp_path / "m.json").write_text(
        json.dumps(
            {
                "jobs": [
                    {"clip": str(shared_media / SHORT), "dub": "missing.wav", "output": "o.mp4"}
                ]
            }
        )
    )
    with pytest.raises(LipsyncError, match="input not found"):
        load_manifest(tmp_path / "m.json")
    assert main(["batch", str(tmp_path / "none.toml")]) == 2


@pytest.mark.slow
def test_two_job_batch_resumes_after_being_killed(shared_media, tmp_path):
    _small(shared_media / SHORT, tmp_path / "short.mp4", 4)
    _small(shared_media / LONG, tmp_path / "long.mp4", 8)
    manifest = tmp_path / "lectures.toml"
    manifest.write_text(
        f'[defaults]\nlong_audio = "cut"\n\n'
        f'[[jobs]]\nid = "short"\nclip = "short.mp4"\ndub = "{shared_media / SPEECH}"\n'
        f'output = "out/short.mp4"\nsegments = ["0:01-0:02"]\n\n'
        f'[[jobs]]\nid = "long"\nclip = "long.mp4"\ndub = "{shared_media / SPEECH}"\n'
        f'output = "out/long.mp4"\n'
    )
    (tmp_path / "out").mkdir()
    cmd = [
        sys.executable,
        "-m",
        "lipcore.cli",
        "batch",
        str(manifest),
        "--workers",
        "2",
        "--threads",
        "--machine-readable",
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    state_dir = tmp_path / "lectures.batch"
    deadline = time.monotonic() + 240
    while read_state(state_dir, "short").get("status") != "done":
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the short job never finished"
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)  # the user presses Ctrl-C while "long" renders
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == 130
    assert read_state(state_dir, "long")["status"] == "interrupted"
    assert not (tmp_path / "out/long.mp4").exists()  # nothing half-written
    short_report = state_dir / "short.report.json"
    stamp = short_report.stat().st_mtime_ns
    assert {"started", "progress"} <= {e["event"] for e in _events(err)}

    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    events = _events(done.stderr)
    assert any(e["event"] == "skipped" and e["job"] == "short" for e in events)
    assert [e["job"] for e in events if e["event"] == "started"] == ["long"]
    assert short_report.stat().st_mtime_ns == stamp  # not run again
    report = json.loads((state_dir / "long.report.json").read_text())
    assert report["status"] == "done" and report["frames"] == 200 and report["frames_changed"] > 0
    assert (tmp_path / "out/long.mp4").is_file()
