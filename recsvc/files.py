"""Saved files: folders written whole (the one way recsvc replaces saved artifacts), and
byte records that a server's workers share by mapping one file.

Example:
    >>> with replaced_folder(tmp_path / "text") as tmp:        # doctest: +SKIP
    ...     np.save(tmp / "lexical.npy", vectors)
    ...     spans = write_records(tmp / "docs.bin", blobs)
    >>> mapped = map_records(tmp_path / "text" / "docs.bin")  # doctest: +SKIP
    >>> mapped[offset : offset + length]                      # doctest: +SKIP
"""

from __future__ import annotations

import mmap
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

__all__ = ["map_records", "prefetch", "replaced_folder", "write_records"]


@contextmanager
def replaced_folder(target: str | Path) -> Iterator[Path]:
    """Write ``target``'s new contents into a private sibling, then put it in place.

    Readers see the old folder or the new one, never a half-written one; a failure
    leaves the old one as it was. Files another process has memory-mapped stay valid:
    the old folder is unlinked, never rewritten in place.

    Yields:
        The (empty) folder to write into.
    """
    target = Path(target)
    tag = uuid.uuid4().hex[:8]
    tmp = target.with_name(f".{target.name}.tmp-{tag}")
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old-{tag}")
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _reader() -> ThreadPoolExecutor:
    """The one thread that reads mapped files into the page cache, a request after
    another (two at once would only make the disk seek between them)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="recsvc-prefetch")


_READER = _reader()


def _new_reader() -> None:  # a forked child has no thread behind the parent's pool
    global _READER
    _READER = _reader()


os.register_at_fork(after_in_child=_new_reader)


def prefetch(*paths: str | Path, chunk: int = 8 << 20) -> Future[None]:
    """Read files through once, in the background, so that the page cache holds them.

    For files a server memory-maps: without it each first touch of a page is a disk
    read inside some request (measured: 218 µs per FAISS vector lookup on a cold
    mapping, 7 µs warm). ``posix_fadvise(WILLNEED)`` alone read only the first 8 MB
    here. It costs about a second per gigabyte from disk and still 0.6 s for the 3 GB
    a 100k server maps when they are cached already, so it no longer holds up the
    opening of a version: the mapped files are usable at once (a page not read yet is
    read when touched), and the returned future tells when they are all read. Missing
    files are skipped.
    """
    return _READER.submit(_read_through, [Path(p) for p in paths], chunk)


def _read_through(paths: list[Path], chunk: int) -> None:
    buffer = bytearray(chunk)
    for path in paths:
        try:
            with open(path, "rb", buffering=0) as fh:
                while fh.readinto(buffer):
                    pass
        except OSError:
            continue


def write_records(path: str | Path, records: Iterable[bytes]) -> list[tuple[int, int]]:
    """Write byte records one after another; returns each one's ``(offset, length)``."""
    spans: list[tuple[int, int]] = []
    offset = 0
    with Path(path).open("wb") as fh:
        for blob in records:
            fh.write(blob)
            spans.append((offset, len(blob)))
            offset += len(blob)
    return spans


def map_records(path: str | Path) -> mmap.mmap | bytes:
    """A file of :func:`write_records`, mapped read-only and read into the page cache.

    Every process that maps it shares one copy; slice it with a record's span.
    """
    prefetch(path)
    with Path(path).open("rb") as fh:
        if not os.fstat(fh.fileno()).st_size:
            return b""  # an empty file cannot be mapped
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
