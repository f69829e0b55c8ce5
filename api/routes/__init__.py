"""The JSON API's routers, one file per audience."""

from __future__ import annotations

from api.routes import analyst, librarian, ops, portal

__all__ = ["analyst", "librarian", "ops", "portal"]
