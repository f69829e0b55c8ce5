"""The domain store: models, migrations, catalogue and the bulk frame reader."""

from recsvc.store.db import Database, make_engine
from recsvc.store.frames import Frames, load_frames

__all__ = ["Database", "Frames", "load_frames", "make_engine"]
