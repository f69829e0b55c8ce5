"""Erasing a client from the serving files: the one change made to them after training.

Model versions are immutable and hold no client texts (:mod:`recsvc.serving.layout`);
what quotes or indexes clients lives in ``settings.serving_dir/<version>/`` and is
patched here, never rebuilt from scratch:

* ``portal/``: the client's own list goes; other clients' lists lose the similar-case
  evidence that quotes one of its anonymised cases (:func:`erase_from_lists`).
* ``kept/cases/``: the hits of its commissions and its cases among other commissions'
  hits go (:func:`~recsvc.recommend.kept.erase_case_hits`).
* ``kept/contributions/``: its rows go
  (:func:`~recsvc.recommend.contributions.erase_contributions`).
* ``text/``: the text space's vectors of its commissions go
  (:func:`~recsvc.recommend.text_files.erase_commission_vectors`).
* ``ranker/`` and ``explainer/`` (of one snapshot, which the erasure has changed) are
  deleted: servers compute them in memory until ``recsvc serving build`` writes them
  for the new snapshot. So is ``snapshot.pkl``, the frames of the store as training
  read it, client rows and texts included.

Every folder is replaced whole (:func:`~recsvc.files.replaced_folder`), so a server
that maps the old files keeps a consistent view until it reopens the version.

Example:
    >>> erase_serving_files(settings, versions, 42, case_ids=set())   # doctest: +SKIP
    {'portal_lists': 3, 'portal_evidence': 1, 'case_hits': 12, ...}
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recsvc.recommend.contributions import erase_contributions
from recsvc.recommend.kept import erase_case_hits
from recsvc.recommend.text_files import erase_commission_vectors
from recsvc.serving.layout import (
    CASE_HITS,
    CONTRIBUTIONS,
    EXPLAINER_ARRAYS,
    PORTAL,
    RANKER_SCORES,
    SCORES,
    SNAPSHOT,
    SNAPSHOT_FRAMES,
    TEXT_SNAPSHOT,
    TEXT_SPACE,
    served_dir,
    snapshot_dir,
)
from recsvc.serving.portal import erase_from_lists

__all__ = ["erase_serving_files"]

log = logging.getLogger(__name__)


def _n_products(version_folder: Path) -> int | None:
    """How many products the version's ranker scores (its contribution rows' stride)."""
    try:
        config = json.loads((version_folder / "ranker" / "config.json").read_text())
        return len(config["codes"])
    except (OSError, ValueError, KeyError):
        return None


def erase_serving_files(
    settings: Any,
    versions: Iterable[tuple[str, Path]],
    client_id: int,
    *,
    case_ids: set[str],
    case_summaries: Iterable[tuple[str, str]] = (),
    commission_ids: Iterable[int] = (),
    signature: tuple[str, str] | None = None,
) -> dict[str, int]:
    """Take one client out of the serving files of every version.

    Args:
        settings: the configuration (``serving_dir``, ``models_dir``).
        versions: ``(version, folder)`` of every registered version; every folder of
            ``serving_dir`` is patched too (a version not registered, e.g. of a
            training that died, may still have some).
        client_id: the client's internal id.
        case_ids / case_summaries: its anonymised cases (ids, ``(en, zh)`` summaries).
        commission_ids: its commissions (the case table's trigger keys).
        signature: the semantic index's signature before and after the erasure.

    Returns:
        Entries removed per kind: ``portal_lists``, ``portal_evidence``, ``case_hits``,
        ``contributions``, ``text_vectors``, ``snapshot_files``.
    """
    counts: Counter[str] = Counter()
    summaries = list(case_summaries)
    triggers = {int(c) for c in commission_ids}
    places: dict[Path, Path] = {}  # served folder -> its version folder
    for version, folder in versions:
        places[served_dir(settings, version, folder)] = folder
    root = Path(settings.serving_dir)
    for sub in sorted(root.iterdir()) if root.is_dir() else []:
        if sub.is_dir():
            places.setdefault(sub, Path(settings.models_dir) / sub.name)
    for served, folder in places.items():
        dropped, patched = erase_from_lists(
            served / PORTAL, client_id, case_summaries=summaries, case_ids=case_ids
        )
        counts["portal_lists"] += dropped
        counts["portal_evidence"] += patched
        counts["case_hits"] += erase_case_hits(
            served / CASE_HITS,
            owner=int(client_id),
            case_ids=case_ids,
            triggers=triggers,
            signature=signature,
        )
        counts["text_vectors"] += erase_commission_vectors(served / TEXT_SPACE, triggers)
        (served / TEXT_SPACE / TEXT_SNAPSHOT).unlink(missing_ok=True)  # texts checked again
        counts["contributions"] += erase_contributions(
            served / CONTRIBUTIONS, client_id=client_id, n_products=_n_products(folder)
        )
        snapshot = snapshot_dir(settings, folder.name) if served == folder else served
        for name in (SCORES, RANKER_SCORES, EXPLAINER_ARRAYS):
            if (snapshot / name).is_dir():
                shutil.rmtree(snapshot / name)
                counts["snapshot_files"] += 1
        (snapshot / SNAPSHOT).unlink(missing_ok=True)
        if (snapshot / SNAPSHOT_FRAMES).exists():  # the client's rows and texts are in it
            (snapshot / SNAPSHOT_FRAMES).unlink()
            counts["snapshot_files"] += 1
    log.info("client %d erased from the serving files: %s", client_id, dict(counts))
    return dict(counts)
