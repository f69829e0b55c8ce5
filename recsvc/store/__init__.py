"""The domain store: models, migrations, catalogue and the bulk frame reader.

The frame reader (pandas) is imported on first use, so a command that only counts rows
or checks a key does not load pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recsvc.store.db import Database, make_engine

if TYPE_CHECKING:
    from recsvc.store.frames import Frames, load_frames

__all__ = ["Database", "Frames", "load_frames", "make_engine"]


def __getattr__(name: str) -> Any:
    if name in ("Frames", "load_frames"):
        from recsvc.store import frames

        return getattr(frames, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
