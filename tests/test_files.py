"""Saved folders are replaced whole; mapped files are read into the page cache at load."""

from __future__ import annotations

import mmap
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recsvc.files import prefetch, replaced_folder


def test_a_folder_is_replaced_whole_and_a_failure_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "arrays"
    with replaced_folder(target) as tmp:
        (tmp / "a.bin").write_bytes(b"old")
    with open(target / "a.bin", "rb") as fh:  # a worker maps the old file
        mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)

    with pytest.raises(RuntimeError), replaced_folder(target) as tmp:
        (tmp / "a.bin").write_bytes(b"half")
        raise RuntimeError("the computation failed")
    assert (target / "a.bin").read_bytes() == b"old"

    with replaced_folder(target) as tmp:
        (tmp / "a.bin").write_bytes(b"new")
    assert (target / "a.bin").read_bytes() == b"new"
    assert mapped[:] == b"old"  # unlinked, never rewritten under the mapping
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays"]  # nothing left over


def _resident_bytes(path: Path) -> int:
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[0])


@pytest.mark.skipif(shutil.which("fincore") is None, reason="util-linux fincore not installed")
def test_prefetch_reads_a_file_into_the_page_cache(tmp_path: Path) -> None:
    path = tmp_path / "vectors.npy"
    path.write_bytes(os.urandom(24 << 20))
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # as after memory pressure
    os.close(fd)
    if _resident_bytes(path) > 0:
        pytest.skip("this file system keeps the pages (tmpfs)")
    prefetch(path, tmp_path / "missing.npy").result(timeout=60)  # read in the background
    assert _resident_bytes(path) == path.stat().st_size


#: Run in a fresh interpreter: forking the test process itself (many threads: torch,
#: OpenBLAS, the API clients' pools) left scipy's OpenBLAS lock held in it, and the next
#: multithreaded LU in the session waited forever.
FORKED = """
import os, sys
from recsvc.files import prefetch

path = sys.argv[1]
prefetch(path).result(timeout=60)
pid = os.fork()
if pid == 0:  # the child: exit 0 only when its prefetch ran
    try:
        prefetch(path).result(timeout=30)
        os._exit(0)
    except BaseException:
        os._exit(1)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_forked_process_prefetches_too(tmp_path: Path) -> None:
    """A child forked after the parent prefetched gets its own reader thread (the
    parent's pool has none behind it there: its reads would never run)."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1024)
    done = subprocess.run([sys.executable, "-c", FORKED, str(path)], timeout=120, check=False)
    assert done.returncode == 0
