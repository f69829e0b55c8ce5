"""Memos keyed by a frame object: work a live call would redo on the same snapshot.

A snapshot's frames are never changed in place, so what is derived from one frame
(its columns as arrays, an index over it, its digest) can be kept as long as the
frame lives. This is the one home of such memos.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

__all__ = ["column_arrays", "memo_per_frame"]

_T = TypeVar("_T")
_F = TypeVar("_F")


def memo_per_frame(fn: Callable[[_F], _T]) -> Callable[[_F], _T]:
    """Memoise ``fn(frame)`` per frame object (a snapshot's frames are not changed in
    place): for indexes a live call would otherwise rebuild from the same frame, and
    for the digest of a whole snapshot (:func:`~recsvc.store.stamp.snapshot_digest`).

    Keyed by identity and holding the frame, so a key is never a recycled id; the memo
    is dropped whole past 16 frames (a process serves one or two snapshots at a time).
    """
    memo: dict[int, tuple[_F, _T]] = {}

    @functools.wraps(fn)
    def wrapper(frame: _F) -> _T:
        hit = memo.get(id(frame))
        if hit is None or hit[0] is not frame:
            if len(memo) > 16:
                memo.clear()
            hit = (frame, fn(frame))
            memo[id(frame)] = hit
        return hit[1]

    return wrapper


@memo_per_frame
def column_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each column of ``frame`` as its array, kept per frame: a live call slices a few
    rows of a few columns, where a column access or a frame of those rows cost more
    than the work done with them."""
    return {str(c): frame[c].to_numpy() for c in frame.columns}
