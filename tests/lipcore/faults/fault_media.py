"""Helpers for the fault-corpus tests (its own module name: every test folder has a conftest)."""

from __future__ import annotations

import subprocess


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing the test on an error."""
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)
