"""CLI command ``serving build``: write a model version's serving files for today's
snapshot of the store (ranker scores, explanation arrays), so that every server worker
maps them instead of computing them (:mod:`recsvc.serving.build`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from recsvc.cli._common import console, settings
from recsvc.config import Settings
from recsvc.errors import NotReady

if TYPE_CHECKING:
    from recsvc.semantic import SemanticLayer

serving_app = typer.Typer(help="Serving files of the model versions.", no_args_is_help=True)


@serving_app.command("build")
def build(
    version: Annotated[
        str | None, typer.Argument(help="The model version (default: the active one).")
    ] = None,
) -> None:
    """Write VERSION's ranker scores and explanation arrays of today's snapshot.

    Run it after training on another machine, after an import, or whenever servers log
    that they computed these in memory; servers never write them.
    """
    from recsvc.registry import Registry
    from recsvc.serving.build import build_serving_files
    from recsvc.store import Database

    s = settings()
    registry = Registry(s.models_dir)
    name = version or registry.active()
    if name is None:
        raise NotReady("no active model version: train one first (recsvc train)")
    folder = registry.path(name)
    db = Database.from_settings(s)
    try:
        written = build_serving_files(s, db, _semantic(s), name, folder)
    finally:
        db.dispose()
    console.print(f"serving files of {name} written to {written}", highlight=False)


def _semantic(s: Settings) -> SemanticLayer | None:
    """The semantic layer as a server opens it (``None`` when no index was built)."""
    from recsvc.semantic import SemanticLayer

    try:
        return SemanticLayer.load(s, mmap=True)
    except NotReady:
        return None


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.add_typer(serving_app, name="serving")
