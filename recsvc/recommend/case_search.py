"""The past cases most like a commission, in the text space the explainer scores with.

An offer's similar-case sentence cites a past case of the offered product resembling
the client's trigger commission: its own project closest to the product
(:meth:`~recsvc.recommend.evidence.EvidenceFinder.dated_own_projects`). The trigger
was chosen by its best text similarity to the product's cases
(:func:`~recsvc.recommend.explain_state.new_sims`), so the case cited is the one behind
that similarity: the best few of each product's cases in the same fused space
(:meth:`~recsvc.recommend.text.TextSpace.similarity`), the client's own cases left out.

Until 2026-12-08 the case came from another search: the semantic layer's hybrid search
(BM25 and dense) over every case's anonymised summary, whose score and case could
disagree with the similarity that chose the trigger. At 100,000 clients those searches
were about 40 % of writing the portal lists; these are one matrix product per block of
triggers against the case base (each product's newest cases).

Example:
    >>> found = closest_cases(text, cases, np.array([17]), np.array([3]))  # doctest: +SKIP
    >>> found[0][:1]  # doctest: +SKIP
    [('case-5d1f0c2ab4e9', 0.81)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from recsvc.recommend.explain_inputs import CaseBase
    from recsvc.recommend.text import TextSpace

__all__ = ["CASES_PER_PRODUCT", "MIN_CASE_SIM", "closest_cases"]

#: Cases kept per product for one trigger: the best is cited, the next stand in where a
#: portal sentence may not quote it (it would name another client).
CASES_PER_PRODUCT = 3
#: The least text similarity of a case cited. On the demo store with the packaged
#: model (``benchmarks/check_case_sentences.py``) it cites a case for about as many
#: offers as the hybrid search did (8,289 against 8,355 of 9,650), 93 % of them
#: sharing the trigger's subject area, against 89 % of the searched ones (84 % with
#: no floor).
MIN_CASE_SIM = 0.4
#: Triggers compared with the case base in one product (a block of 1,024 against
#: 16,000 cases is 64 MB of float32).
CHUNK = 1024


def closest_cases(
    text: TextSpace,
    cases: CaseBase,
    commission_ids: np.ndarray,
    owners: np.ndarray,
    citable: np.ndarray | None = None,
    k: int = CASES_PER_PRODUCT,
    floor: float = MIN_CASE_SIM,
) -> list[list[tuple[str, float]]]:
    """For each commission, the ``k`` cases of each product most similar to it, as
    ``(case id, similarity)`` best first over all products (equal similarities in
    case-base order; which of several cases tied for the ``k``-th place of a product
    is kept is not defined); ``owners[i]``'s own cases, cases less similar than
    ``floor`` and, with ``citable`` (a flag per case), cases that may not be cited are
    left out. Case ids are the semantic index's (:attr:`CaseBase.case_ids`).
    """
    ids = np.asarray(commission_ids, dtype=np.int64)
    owners = np.asarray(owners, dtype=np.int64)
    keys = cases.case_ids
    out: list[list[tuple[str, float]]] = []
    for start in range(0, len(ids), CHUNK):
        part = slice(start, start + CHUNK)
        vecs = text.commissions(ids[part])
        sims = text.similarity(vecs, cases.vectors)
        sims[cases.clients[None, :] == owners[part, None]] = -np.inf
        if citable is not None:
            sims[:, ~citable] = -np.inf
        rows = [_top(sims, a, b, k) for a, b in cases.spans.values()]
        at = np.hstack(rows) if rows else np.zeros((len(sims), 0), dtype=np.int64)
        # the block product's sums depend on the block (BLAS): the kept cases are scored
        # pair by pair, so a trigger gets the same scores alone as in any batch
        score = text.pair_similarity(vecs, cases.vectors, at)
        score[np.isneginf(np.take_along_axis(sims, at, axis=1))] = -np.inf
        order = np.lexsort((at, -score), axis=1)  # best first, ties by case row
        at, score = np.take_along_axis(at, order, 1), np.take_along_axis(score, order, 1)
        for row, value in zip(at, score, strict=True):
            ok = (value >= floor) & (value > 0)
            out.append(list(zip(keys[row[ok]].tolist(), value[ok].tolist(), strict=True)))
    return out


def _top(sims: np.ndarray, start: int, stop: int, k: int) -> np.ndarray:
    """The columns of the ``k`` largest values of each row within ``[start, stop)``."""
    k = min(k, stop - start)
    if k <= 0:
        return np.zeros((len(sims), 0), dtype=np.int64)
    block = sims[:, start:stop]
    if k < stop - start:
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(stop - start), (len(sims), k))
    return start + top
