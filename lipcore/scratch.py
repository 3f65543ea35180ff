"""Disk-backed arrays for data that grows with a clip, and giving their pages back.

A long clip's bulk (a face library's crops, a track's landmarks) is kept in files mapped into
memory: the process reads in only the pages it touches, and :func:`release_pages` drops them
again after a pass over the whole array, so the memory a render holds does not grow with the
clip. The files are the page cache's to keep or evict; a scratch file is unlinked as soon as it
is mapped, so it disappears with the array.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import uuid

import numpy as np

#: Rows written or read between two :func:`release_pages` calls in a pass over a big array.
RELEASE_EVERY_ROWS = 64


def scratch_array(shape: tuple[int, ...], dtype, folder: str | None = None) -> np.ndarray:
    """A zeroed array backed by an unlinked temporary file (falls back to memory on failure).

    Args:
        shape: Array shape.
        dtype: Element type.
        folder: Where the file goes; None = the system's temporary folder.

    Returns:
        A writable ``np.memmap`` (or a plain array when no file can be made).
    """
    where = folder or tempfile.gettempdir()
    path = os.path.join(where, f".lipsync-scratch-{uuid.uuid4().hex[:12]}.npy")
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype)
    try:
        out = _reserved_memmap(path, dtype, shape)
    except OSError:
        return np.zeros(shape, dtype)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return out


def _reserved_memmap(path, dtype, shape: tuple[int, ...]) -> np.memmap:
    """A new ``.npy`` file mapped for writing, its disk blocks reserved first.

    A mapped file is made sparse: on a full disk the first write to an unreserved page would
    kill the process (SIGBUS) instead of failing. Reserving the blocks turns that into an
    ``OSError`` here (ENOSPC, or EFBIG at a file-size limit), which callers handle.

    Raises:
        OSError: The file cannot be made or its blocks reserved (the file is removed).
    """
    out = None
    try:
        out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
        if hasattr(os, "posix_fallocate"):
            with open(path, "r+b") as f:
                os.posix_fallocate(f.fileno(), 0, os.fstat(f.fileno()).st_size)
    except OSError:
        del out
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    return out


def release_pages(array: np.ndarray) -> None:
    """Give back the resident pages of a memory-mapped array (after a pass over all of it).

    The data stays in the file and the page cache (written pages included); the process only
    stops counting them as its memory until it reads them again. Arrays that are not
    memory-mapped are left alone.
    """
    base = array
    while base is not None and not isinstance(base, np.memmap):
        base = getattr(base, "base", None)
    handle = getattr(base, "_mmap", None)
    if handle is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            handle.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


def save_rows(path, array: np.ndarray) -> None:
    """``np.save(path, array)`` a block of rows at a time, giving pages back as it goes.

    The file is the same as :func:`numpy.save`'s; a disk-backed array is copied without ever
    being resident whole.
    """
    if len(array) == 0:
        np.save(path, np.asarray(array), allow_pickle=False)
        return
    out = _reserved_memmap(path, array.dtype, array.shape)
    for a in range(0, len(array), RELEASE_EVERY_ROWS):
        out[a : a + RELEASE_EVERY_ROWS] = array[a : a + RELEASE_EVERY_ROWS]
        release_pages(array)
        release_pages(out)
    out.flush()
    del out


def release_heap() -> None:
    """Return the allocator's free heap to the system (glibc ``malloc_trim``; else nothing).

    Frames decoded in one thread and freed in another leave free blocks in the allocator's
    arenas; after each segment of a long clip they add up (about 100 MB over 8 segments of a
    10-minute clip, none of it live data) unless they are handed back.
    """
    import ctypes
    import ctypes.util

    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


_libc = None
