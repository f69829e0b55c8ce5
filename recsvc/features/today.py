"""The business "today": the point in time live scoring and training look back from.

One definition for the value model, the recommender, the serving bundle and training:
``settings.as_of_date`` when it is set (a fixed date for demos and reproducible runs),
otherwise the day after the newest activity in the store snapshot.

Example:
    >>> business_today(frames, settings)                   # doctest: +SKIP
    Timestamp('2026-01-01 00:00:00')
"""

from __future__ import annotations

import pandas as pd

from recsvc.config import Settings
from recsvc.store.frames import Frames

__all__ = ["business_today"]


def business_today(frames: Frames, settings: Settings | None = None) -> pd.Timestamp:
    """``settings.as_of_date``, or midnight after ``frames.latest_date``.

    Args:
        frames: the store snapshot.
        settings: the service settings; without them only the data decides.
    """
    if settings is not None and settings.as_of_date is not None:
        return pd.Timestamp(settings.as_of_date)
    return pd.Timestamp(frames.latest_date).normalize() + pd.Timedelta(days=1)
