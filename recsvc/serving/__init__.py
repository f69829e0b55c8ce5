"""What the live path serves with, opened from a registered model version.

Example:
    >>> from recsvc.serving import open_bundle
    >>> bundle = open_bundle(settings, db, semantic, "v1", folder)   # doctest: +SKIP
"""

from __future__ import annotations

from recsvc.serving.bundle import ServingBundle, freeze_heap, open_bundle

__all__ = ["ServingBundle", "freeze_heap", "open_bundle"]
