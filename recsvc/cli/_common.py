"""Shared plumbing for CLI commands: settings, the runtime, consoles."""

from __future__ import annotations

import logging
from functools import cache

from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler

from recsvc.config import Settings
from recsvc.errors import InvalidInput
from recsvc.runtime import Runtime

console = Console()
console_err = Console(stderr=True)


@cache
def settings() -> Settings:
    """Settings from the environment, built once per process.

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
    logging.basicConfig(
        level=s.log_level,
        format="%(message)s",
        handlers=[RichHandler(console=console_err, show_path=False)],
    )
    # Alembic announces every migration context at INFO; the CLI only wants real news.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return s


def runtime(*, load_model: bool = False) -> Runtime:
    """A runtime for one command, like a server's (the same use cases answer).

    Args:
        load_model: load the registry's active version (commands that recommend, score
            or rank); without it promote and rollback only move the registry pointer.
    """
    from recsvc.usecases import open_runtime

    return open_runtime(settings(), load_model=load_model, warm_worklist=False)
