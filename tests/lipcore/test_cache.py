"""The on-disk cache helpers: atomic writes that survive concurrent writers and failures."""

from __future__ import annotations

import threading

import pytest

from lipcore.cache import atomic_write_bytes


def test_concurrent_writers_of_one_path_all_succeed_and_leave_no_temp(tmp_path):
    # The editor's background workers can save the same cache entry (a clip's face tracks) at
    # the same time; each write must land whole, and none may fail on another's temp file.
    target = tmp_path / "tracks.npz"
    payloads = [bytes([k]) * (1 << 20) for k in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(payloads))

    def write(data: bytes) -> None:
        start.wait()
        try:
            for _ in range(15):
                atomic_write_bytes(target, data)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["tracks.npz"]


def test_a_failed_write_leaves_neither_temp_nor_partial_file(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(target, object())  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]
