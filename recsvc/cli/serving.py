"""CLI command ``serving build``: write a model version's serving files for today's
snapshot of the store (ranker scores, explanation arrays), so that every server worker
maps them instead of computing them (:mod:`recsvc.serving.build`)."""

from __future__ import annotations

from typing import Annotated

import typer

from recsvc.cli import _common
from recsvc.usecases import models

serving_app = typer.Typer(help="Serving files of the model versions.", no_args_is_help=True)


@serving_app.command("build")
def build(
    version: Annotated[
        str | None, typer.Argument(help="The model version (default: the active one).")
    ] = None,
) -> None:
    """Write VERSION's value scores, ranker scores and explanation arrays of today's snapshot.

    Run it after training on another machine, after an import, or whenever servers log
    that they computed these in memory; servers never write them.
    """
    rt = _common.runtime()
    try:
        written = models.build_serving(rt, name=version)
    finally:
        rt.close()
    _common.console.print(f"serving files of {written.name} written to {written}")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.add_typer(serving_app, name="serving")
