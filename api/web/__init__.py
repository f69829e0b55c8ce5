"""The web console (librarians, analysts) and the portal preview, served by the API app."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from recsvc.config import Settings


def mount(app: FastAPI, settings: Settings) -> None:
    """Attach the console's routes, templates and static files to ``app``."""
