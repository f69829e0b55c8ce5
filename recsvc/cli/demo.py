"""CLI commands: see :mod:`recsvc.cli` for the group list."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
