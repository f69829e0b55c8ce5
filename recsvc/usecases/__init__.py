"""The use cases: what the service does, as plain functions of a :class:`Runtime`.

Every API route, console page and CLI command calls these, so a page, an endpoint and
a command can never disagree. Each function takes the runtime first and keyword
arguments after it, and returns a typed result; errors are :mod:`recsvc.errors`.

========================  ======================================================
module                    use cases
========================  ======================================================
:mod:`.clients`           find clients, a client's record and history
:mod:`.scoring`           a client's value probability, segment, CLV, stage
:mod:`.recommendations`   next best services, live and the portal's stored lists
:mod:`.portal`            the portal in the client's words; its "ask about this"
:mod:`.search`            semantic search, similar clients and commissions
:mod:`.worklist`          whom to contact now, and its CSV / Excel export
:mod:`.events`            impressions and outcomes (librarian, portal, CLI)
:mod:`.models`            model versions: list, promote, rollback, reports, plots
:mod:`.imports`           uploads and files into the store; row counts
:mod:`.jobs`              training jobs in a subprocess
:mod:`.access`            API keys: who is calling, create, list, revoke
:mod:`.erasure`           erase a client and everything derived from it; the records
:mod:`.readiness`         whether the store answers and a model serves
========================  ======================================================

(Named ``usecases`` rather than ``app``: ``api.app`` is the FastAPI factory and the CLI's
Typer object is ``app``; a third ``app`` would say nothing.)

Example:
    >>> from recsvc.config import Settings
    >>> rt = open_runtime(Settings(database_url="sqlite://"))
    >>> from recsvc.usecases import readiness
    >>> readiness.check(rt).model_loaded
    False
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recsvc.config import Settings
from recsvc.runtime import Runtime

if TYPE_CHECKING:
    from recsvc.semantic import Embedder  # FAISS: loaded only by what searches

__all__ = ["open_runtime"]


def open_runtime(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    load_model: bool = True,
    job_argv: Sequence[str] | None = None,
    warm_worklist: bool = True,
) -> Runtime:
    """A :class:`Runtime` for ``settings``, loading the active version if asked.

    Args:
        settings: the configuration.
        embedder: the query embedder (tests pass a ``FakeEmbedder``).
        load_model: load the registry's active version now.
        job_argv: the command a training job runs (tests use a stand-in).
        warm_worklist: rank the default worklist while a version loads (before it
            serves), so the first worklist request is fast.
    """
    on_load = None
    if load_model and warm_worklist:
        from recsvc.usecases.worklist import warm  # the ranker: only where a model loads

        on_load = warm
    return Runtime.open(
        settings,
        embedder=embedder,
        load_model=load_model,
        job_argv=job_argv,
        on_load=on_load,
    )
