"""recsvc: next-best-service recommendations for research information centres.

The public surface is what ``__all__`` lists (pinned by ``tests/test_public_api.py``).
"""

from __future__ import annotations

from recsvc.config import Settings
from recsvc.errors import RecsvcError

__version__ = "0.1.0"

__all__ = ["RecsvcError", "Settings", "__version__"]
