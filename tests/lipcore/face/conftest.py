"""Fixtures for the face tests: shared real clips by name prefix, and one shared mesh graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def find_clip(shared_media: Path, prefix: str) -> Path:
    """The shared clip whose file name starts with ``prefix`` (e.g. "A01")."""
    hits = sorted((shared_media / "video").glob(f"{prefix}_*"))
    if not hits:
        pytest.fail(f"shared clip {prefix}_* missing from {shared_media / 'video'}")
    return hits[0]


@pytest.fixture(scope="session")
def clip(shared_media):
    """``clip("A01")`` -> path of that shared clip."""
    return lambda prefix: find_clip(shared_media, prefix)


@pytest.fixture(scope="session")
def read_frame(clip):
    """``read_frame("A01", 40)`` -> BGR frame 40 of that clip."""
    from lipcore.media.decode import VideoReader

    def read(prefix: str, index: int) -> np.ndarray:
        with VideoReader(clip(prefix)) as reader:
            return reader.read(index).copy()

    return read


@pytest.fixture(scope="session")
def mesher():
    """One MediaPipe FaceMesh graph for the whole session (building one costs ~0.3 s)."""
    from lipcore.face.mesh import MeshLandmarker

    with MeshLandmarker() as m:
        yield m


@pytest.fixture(scope="session")
def mp_detector():
    """One MediaPipe detector (with tiles) for the whole session."""
    from lipcore.face.detect import MediaPipeDetector

    with MediaPipeDetector() as d:
        yield d


@pytest.fixture()
def scrfd_dir(shared_media, tmp_path) -> Path:
    """An insightface-style model folder holding the shared SCRFD 500m detector (a symlink)."""
    folder = tmp_path / "buffalo_test"
    folder.mkdir()
    (folder / "det_500m.onnx").symlink_to(shared_media / "detectors" / "D06_scrfd_500m_bnkps.onnx")
    return folder


@pytest.fixture()
def pack_with_arcface(scrfd_dir) -> Path:
    """The SCRFD folder plus a tiny hand-written ArcFace-shaped model named like insightface's."""
    from tiny_onnx import write_tiny_recognition_model

    write_tiny_recognition_model(scrfd_dir / "w600k_r50.onnx")
    return scrfd_dir
