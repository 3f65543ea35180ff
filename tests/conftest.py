"""Fixtures shared by every test package: where the shared real clips live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_MEDIA = Path(os.environ.get("LIPSYNC_SHARED_MEDIA", REPO.parent / "shared" / "media"))


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """The folder of real talking-face clips, speech and detector weights (../shared/media)."""
    if not (SHARED_MEDIA / "MANIFEST.tsv").exists():
        pytest.fail(f"shared media not found at {SHARED_MEDIA}; set LIPSYNC_SHARED_MEDIA")
    return SHARED_MEDIA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's on-disk cache inside the test session's temp dir."""
    monkeypatch.setenv("LIPSYNC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
