"""Shared plumbing for CLI commands: settings, logging, the runtime, consoles, tables.

Commands import what they need inside their bodies, so ``recsvc --help`` or
``recsvc stats`` never loads FAISS, LightGBM, scikit-learn or torch; only the commands
that rank or score ask :func:`runtime` for the model, and it reports that in one line.
"""

from __future__ import annotations

import logging
import sys
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from recsvc.config import Settings
from recsvc.errors import InvalidInput

if TYPE_CHECKING:
    from recsvc.runtime import Runtime

console = Console()
console_err = Console(stderr=True)

_verbose = False
_brief = False


def set_verbose(on: bool) -> None:
    """Show INFO log lines (``recsvc --verbose``); the default shows warnings only."""
    global _verbose
    _verbose = on
    configure_logging(logging.INFO if on else logging.WARNING)


def set_brief(on: bool) -> None:
    """One summary line per command instead of tables (``recsvc --brief``)."""
    global _brief
    _brief = on


def is_brief() -> bool:
    """Whether ``recsvc --brief`` asked for one summary line per command."""
    return _brief


def configure_logging(level: str | int) -> None:
    """Log to stderr at ``level`` through Rich (replaces an earlier configuration)."""
    from rich.logging import RichHandler

    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console_err, show_path=False)],
        force=True,
    )
    # Alembic announces every migration context at INFO; the CLI only wants real news.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@cache
def settings() -> Settings:
    """Settings from the environment, built once per process.

    With ``--verbose`` the log level becomes the configured one (e.g. DEBUG).

    Raises:
        InvalidInput: a setting is refused (e.g. a weak secret key in production); the
            CLI prints the reason and exits, the way every command reports errors.
    """
    try:
        s = Settings()
    except ValidationError as exc:
        reasons = "; ".join(
            str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()
        )
        raise InvalidInput(f"refusing to start: {reasons}") from None
    if _verbose:
        configure_logging(s.log_level)
    return s


def runtime(*, load_model: bool = False) -> Runtime:
    """A runtime for one command, like a server's (the same use cases answer).

    Args:
        load_model: load the registry's active version (commands that recommend, score
            or rank) and say so in one line on stderr; without it the model is never
            opened, and promote and rollback only move the registry pointer.
    """
    from recsvc.usecases import open_runtime

    s = settings()
    started = time.perf_counter()
    rt = open_runtime(s, load_model=load_model, warm_worklist=False)
    if load_model and rt.bundle is not None:
        console_err.print(
            f"model {rt.bundle.version} loaded in {time.perf_counter() - started:.1f} s",
            highlight=False,
        )
    return rt


def table(*headers: str, title: str | None = None, **kwargs: Any) -> Table:
    """A Rich table whose columns fold long text instead of cutting it.

    Chinese names have no spaces to wrap at: Rich's default (``overflow="ellipsis"``)
    drops the rest of such a cell; folding breaks it between characters, by cell width.
    """
    t = Table(title=title, **kwargs)
    for header in headers:
        t.add_column(header, overflow="fold")
    return t


def output_file(path: Path, *, option: str = "--export") -> Path:
    """``path`` checked as a file to write: its folder must exist (it is never created).

    Raises:
        InvalidInput: the folder is missing, or ``path`` is a folder.
    """
    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput(f"{option}: folder {folder} does not exist")
    if path.is_dir():
        raise InvalidInput(f"{option}: {path} is a folder; give a file name")
    return path


def progress_default(progress: bool | None) -> bool:
    """Progress bars: as asked, else only when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress
