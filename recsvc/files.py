"""Folders written whole: the one way recsvc replaces saved artifacts.

Example:
    >>> with replaced_folder(tmp_path / "text") as tmp:        # doctest: +SKIP
    ...     np.save(tmp / "lexical.npy", vectors)
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["prefetch", "replaced_folder"]


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


def prefetch(*paths: str | Path, chunk: int = 8 << 20) -> None:
    """Read files through once so that the page cache holds them.

    For files a server memory-maps: without it each first touch of a page is a disk
    read inside some request (measured: 218 µs per FAISS vector lookup on a cold
    mapping, 7 µs warm). ``posix_fadvise(WILLNEED)`` alone read only the first 8 MB
    here. Costs about a second per gigabyte at load; missing files are skipped.
    """
    buffer = bytearray(chunk)
    for path in paths:
        try:
            with open(path, "rb", buffering=0) as fh:
                while fh.readinto(buffer):
                    pass
        except OSError:
            continue
