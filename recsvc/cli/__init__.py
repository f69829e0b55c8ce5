"""The ``recsvc`` command: a thin shell over the same service functions as the API.

Each command group lives in its own module and registers itself on :data:`app`:

- :mod:`recsvc.cli.data` — ``db upgrade``, ``import``, ``stats``
- :mod:`recsvc.cli.demo` — ``demo-data``
- :mod:`recsvc.cli.search` — ``index build|distill``, ``search``, ``similar``
- :mod:`recsvc.cli.models` — ``train``, ``evaluate``, ``models list|promote|rollback|clean``,
  ``score``
- :mod:`recsvc.cli.recommend` — ``recommend``, ``worklist``, ``feedback``
- :mod:`recsvc.cli.serve` — ``serve``, ``keys create|list|revoke``
- :mod:`recsvc.cli.serving` — ``serving build``
- :mod:`recsvc.cli.clients` — ``clients erase|erasures``

Commands load only what they use: ``stats``, ``keys``, ``import``, ``audit``, ``models
list`` and ``version`` never import FAISS, LightGBM or torch nor open a model; the
commands that rank or score load the active version once and say so in one line. Log
lines below WARNING appear only with ``recsvc --verbose`` (``serve`` logs at the
configured level). Progress bars are drawn only on a terminal.

Errors derived from :class:`recsvc.errors.RecsvcError` are printed as one line per
problem and end the process with the error's ``exit_code`` (2 for a rejected import).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from recsvc.cli import _common, clients, data, demo, models, recommend, search, serve, serving
from recsvc.cli import audit as audit_commands
from recsvc.cli._common import console_err
from recsvc.errors import RecsvcError

app = typer.Typer(
    name="recsvc",
    help="Next-best-service recommendations for research information centres.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show INFO log lines (model paths, steps).")
    ] = False,
    brief: Annotated[
        bool,
        typer.Option("--brief", help="One summary line per command instead of tables."),
    ] = False,
) -> None:
    """Next-best-service recommendations for research information centres."""
    _common.set_verbose(verbose)
    _common.set_brief(brief)
    if not sys.stderr.isatty():
        # tqdm bars (the embedding model's weights, batches) only on a terminal; a log
        # or `make demo` gets one line per command
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")
    if not verbose:  # MLflow configures its own logger (INFO) when training imports it
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


@app.command()
def version() -> None:
    """Print the recsvc version."""
    from recsvc import __version__

    typer.echo(__version__)


for module in (data, demo, search, models, recommend, serve, serving, clients):
    module.register(app)
audit_commands.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RecsvcError as exc:
        console_err.print(f"[bold red]error:[/] {exc.detail}", highlight=False, soft_wrap=True)
        for problem in exc.problems:
            console_err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
