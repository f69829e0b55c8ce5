"""What explanations look up for every client of one snapshot, computed in batch.

:class:`ExplainerState` holds, per client, its latest commissions and purchases, and
for every such commission its best text similarity to each product (the product's
past cases and its description), plus each client's best past case per product.
:func:`compute_state` builds it in chunked matrix products; :func:`save_state` and
:func:`load_state` write and map it through :mod:`recsvc.artifact`, so a server
worker maps what training computed for the same snapshot (:func:`state_fingerprint`).

The state is immutable: a commission or a client the snapshot did not know (a client
added since) gives a new state (:meth:`ExplainerState.with_sims`,
:meth:`ExplainerState.with_best_cases`), published by the explainer with one
reference assignment.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from recsvc.artifact import ArtifactKind
from recsvc.files import prefetch
from recsvc.recommend.context import RecContext
from recsvc.recommend.explain_inputs import CaseBase
from recsvc.recommend.rows import RowIndex, RowSpans

__all__ = [
    "COMM_FIELDS",
    "EXPLAINER_FILES",
    "PROJECT_FIELDS",
    "ExplainerState",
    "Projects",
    "TakenRows",
    "best_cases",
    "comm_columns",
    "compute_state",
    "load_state",
    "projects",
    "rows_of",
    "save_state",
    "state_fingerprint",
]

log = logging.getLogger(__name__)

#: The folder of the arrays :func:`save_state` writes.
EXPLAINER_FILES = ArtifactKind("explainer", format=2)  # 2: the latest commissions' rows
#: Latest commissions per client that explanations consider.
LATEST_COMMISSIONS = 30

#: What an own-project sentence reads from a commission.
PROJECT_FIELDS = ("title_zh", "title_en", "keywords", "commissioned_on", "external_id")
#: What explanations read of a client's latest commissions.
COMM_FIELDS = ("commission_id", "purpose", *PROJECT_FIELDS)

#: A client's latest commissions as one array per field of :data:`COMM_FIELDS`: a live
#: call reads a few values of a few rows, where a frame's per-operation cost dominated.
Projects = dict[str, np.ndarray]


def projects(frame: pd.DataFrame) -> Projects:
    """The :data:`COMM_FIELDS` columns of ``frame`` as arrays."""
    return {c: frame[c].to_numpy() for c in COMM_FIELDS if c in frame}


def comm_columns(commissions: pd.DataFrame, rows: np.ndarray) -> dict[str, Any]:
    """The :data:`COMM_FIELDS` columns of ``commissions``' ``rows``, to be read client
    by client (:func:`rows_of`): numbers and dates taken, text left in its column and
    taken when a client's is read (:class:`TakenRows`): a random gather of the 911,431
    commissions' strings at 100,000 clients takes 0.13-0.16 s a column, 0.6 s of a
    start for the four text columns."""
    out: dict[str, Any] = {}
    for c in (c for c in COMM_FIELDS if c in commissions):
        column = commissions[c].array
        text = isinstance(column.dtype, pd.StringDtype)
        out[c] = TakenRows(column, rows) if text else column.take(rows)
    return out


class TakenRows:
    """``column[rows[at]]`` for a slice ``at``: a column's rows taken when asked."""

    def __init__(self, column: Any, rows: np.ndarray) -> None:
        self.column, self.rows = column, np.asarray(rows, dtype=np.int64)

    def __getitem__(self, at: slice) -> Any:
        return self.column.take(self.rows[at])

    def __len__(self) -> int:
        return len(self.rows)


def rows_of(columns: Mapping[str, Any], rows: np.ndarray) -> Projects:
    """:func:`projects` of one client's rows of :func:`comm_columns` (its rows are
    consecutive: one slice of each column, or of a text column's positions)."""
    at = slice(int(rows[0]), int(rows[-1]) + 1) if len(rows) else slice(0, 0)
    return {c: np.asarray(a[at]) for c, a in columns.items()}


@dataclass(frozen=True)
class ExplainerState:
    """Per-client lookups of one snapshot (see the module docstring).

    Attributes:
        latest: each client's latest commissions, sorted by client and date (client
            id, and the numbers and dates of :data:`COMM_FIELDS`).
        columns: the latest commissions' :data:`COMM_FIELDS` (:func:`comm_columns`).
        positions: the rows of :attr:`latest` of each client.
        bought: the products each client bought, first purchase first.
        one_off: whether each product code is bought once (no renewal).
        codes: the column of each product code in :attr:`sims` and :attr:`best`.
        sims: best similarity of each commission (row) to each product (column);
            ``-inf``: no text to compare.
        rows: the row of each commission id in :attr:`sims`.
        best: per client, ``(best case row, similarity)`` per product column (row
            ``-1``: none), the client's own cases excluded.
        at: the row of each of :attr:`latest` in the snapshot's commissions
            (:func:`latest_rows`).
    """

    latest: pd.DataFrame
    at: np.ndarray
    columns: Mapping[str, Any]
    positions: Mapping[int, np.ndarray]
    bought: Mapping[int, list[str]]
    one_off: Mapping[str, bool]
    codes: Mapping[str, int]
    sims: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    rows: RowIndex = field(default_factory=lambda: RowIndex(np.zeros(0, dtype=np.int64)))
    best: Mapping[int, np.ndarray] = field(default_factory=dict)

    def with_sims(self, commission_ids: list[int], block: np.ndarray) -> ExplainerState:
        """This state with the similarity rows of more commissions appended."""
        base = len(self.sims)
        sims = block if base == 0 else np.vstack([self.sims, block])
        return replace(self, sims=sims, rows=self.rows.appended(np.asarray(commission_ids)))

    def with_best_cases(self, more: Mapping[int, np.ndarray]) -> ExplainerState:
        """This state with the best cases of more clients (laid over the others, whose
        table is not copied)."""
        base = self.best
        if isinstance(base, ChainMap):
            return replace(self, best=ChainMap({**base.maps[0], **more}, *base.maps[1:]))
        # a ChainMap writes to its first map only: the table under it is never written
        return replace(self, best=ChainMap(dict(more), cast(MutableMapping, base)))


class TableRows(Mapping[int, np.ndarray]):
    """Row ``i`` of ``table`` by ``ids[i]``, looked up when asked: a mapped table of
    100,000 clients opens without a slice and a dict entry per client (2.7 s)."""

    def __init__(self, ids: np.ndarray, table: np.ndarray) -> None:
        self._index, self._table = RowIndex(ids), table

    def __getitem__(self, key: int) -> np.ndarray:
        return self._table[self._index[key]]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[int]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def code_columns(context: RecContext) -> dict[str, int]:
    """The column of each product code: the catalogue's, then the text space's."""
    codes = [*map(str, context.codes), *map(str, context.text.product_codes_)]
    return {c: j for j, c in enumerate(dict.fromkeys(codes))}


def latest_rows(commissions: pd.DataFrame, n: int) -> np.ndarray:
    """The positions of each client's ``n`` latest commissions, sorted by client and
    date (undated last), ties in their order: those of ``sort_values(["client_id",
    "commissioned_on"], kind="stable").groupby("client_id").tail(n)``, sorted by numpy
    (half the time: 0.06 s against 0.12 s over 91,716 commissions)."""
    clients = commissions["client_id"].to_numpy(np.int64)
    when = commissions["commissioned_on"].to_numpy("datetime64[ns]").view(np.int64)
    when = np.where(when == np.iinfo(np.int64).min, np.iinfo(np.int64).max, when)  # NaT last
    order = np.lexsort((when, clients))  # stable: equal keys keep their order
    ordered = clients[order]
    ends = np.r_[np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, len(order)]
    to_end = np.repeat(ends, np.diff(np.r_[0, ends])) - np.arange(len(order))
    return order[to_end <= n]


def base_state(context: RecContext, at: np.ndarray | None = None) -> ExplainerState:
    """Each client's latest commissions and purchases (no similarities yet); ``at``:
    their rows when a saved state of this snapshot has them."""
    commissions = context.frames.commissions
    if at is None:
        at = latest_rows(commissions, LATEST_COMMISSIONS)  # sorted by client
    columns = comm_columns(commissions, at)
    numbers = {c: a for c, a in columns.items() if not isinstance(a, TakenRows)}
    latest = pd.DataFrame({"client_id": commissions["client_id"].array.take(at), **numbers})
    # first purchase of each (client, product) in date order, as lists per client: one
    # pass over the pairs (a frame per client took 0.6 s at 10,000 clients)
    o = context.orders
    first = pd.DataFrame(
        {"c": o["client_id"].to_numpy(np.int64), "p": o["product_code"].astype(str).to_numpy()}
    ).drop_duplicates()
    bought: dict[int, list[str]] = {}
    for c, code in zip(first["c"].tolist(), first["p"].tolist(), strict=True):
        bought.setdefault(c, []).append(code)
    products = context.products
    one_off = {}
    if "one_off" in products:
        one_off = {
            str(c): bool(v) if pd.notna(v) else False
            for c, v in zip(products["code"], products["one_off"], strict=True)
        }
    return ExplainerState(
        latest=latest,
        at=at,
        columns=columns,
        # row positions only: a frame per client would be 100k small frames at 100k clients
        positions=RowSpans(latest["client_id"].to_numpy(np.int64)),
        bought=bought,
        one_off=one_off,
        codes=code_columns(context),
    )


def new_sims(
    state: ExplainerState,
    context: RecContext,
    cases: CaseBase | None,
    commission_ids: np.ndarray,
    chunk: int = 2048,
) -> ExplainerState:
    """``state`` with the best similarity of each new commission to each product
    (``-inf``: none)."""
    cols = state.codes
    distinct = pd.unique(np.asarray(commission_ids, dtype=np.int64))
    new = distinct[state.rows.rows(distinct) < 0].tolist()
    if not new:
        return state
    text = context.text
    text_cols = [(cols[str(c)], j) for j, c in enumerate(text.product_codes_)]
    case_cols = [] if cases is None else cases.columns(cols)
    out = np.full((len(new), len(cols)), -np.inf, dtype=np.float32)
    new_arr = np.asarray(new, dtype=np.int64)
    for start in range(0, len(new), chunk):
        vecs = text.commissions(new_arr[start : start + chunk])
        block = out[start : start + chunk]
        if cases is not None:
            cs = text.similarity(vecs, cases.vectors)
            for j, span in case_cols:
                block[:, j] = cs[:, span].max(axis=1)
        ps = text.similarity(vecs, text.products())
        for j, t in text_cols:
            block[:, j] = np.maximum(block[:, j], ps[:, t])
    return state.with_sims(new, out)


def best_cases(
    state: ExplainerState,
    context: RecContext,
    cases: CaseBase,
    client_ids: np.ndarray,
    frames_of: Callable[[np.ndarray], pd.DataFrame],
    chunk: int = 1024,
) -> dict[int, np.ndarray]:
    """Per client: ``(best case row, similarity)`` per product column of ``state``.

    The best case of a product is its past case most similar to the client's
    recency-weighted commission vector, the client's own cases excluded (row ``-1``:
    none). One matrix product per chunk of clients; ``frames_of`` gives clients'
    latest commissions.
    """
    cols = state.codes
    per_code = cases.columns(cols)
    ids = np.asarray(client_ids, dtype=np.int64)
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        comm = frames_of(part)
        best = np.full((len(part), len(cols), 2), np.nan)
        best[:, :, 0] = -1
        if not comm.empty:
            vec, _ = context.text.client_vectors(comm, part, context.cutoff)
            sims = context.text.similarity(vec, cases.vectors)
        else:
            sims = np.zeros((len(part), len(cases.clients)), dtype=np.float32)
        for j, span in per_code:
            a = span.start
            own = cases.clients[span][None, :] == part[:, None]
            sub = np.where(own, -np.inf, sims[:, span])
            arg = np.argmax(sub, axis=1)
            val = sub[np.arange(len(part)), arg]
            ok = np.isfinite(val)
            best[:, j, 0] = np.where(ok, a + arg, -1)
            best[:, j, 1] = np.where(ok, val, np.nan)
        for i, c in enumerate(part):
            out[int(c)] = best[i]
    return out


def compute_state(context: RecContext, cases: CaseBase | None) -> ExplainerState:
    """The state of ``context``'s snapshot with every latest commission's similarities
    (best cases are added per client: :func:`best_cases`)."""
    state = base_state(context)
    return new_sims(state, context, cases, state.latest["commission_id"].to_numpy(np.int64))


def state_fingerprint(context: RecContext, cases: CaseBase | None) -> str:
    """What the state depends on: the cutoff, every commission (id, client, date), the
    texts of the text space's commissions
    (:meth:`~recsvc.recommend.text.TextSpace.texts_digest`), the product columns and
    texts, the past cases."""
    h = hashlib.sha256(str(context.cutoff).encode())
    h.update(json.dumps(list(code_columns(context))).encode())
    c = context.frames.commissions
    for a in (
        c["commission_id"].to_numpy(dtype=np.int64),
        c["client_id"].to_numpy(dtype=np.int64),
        c["commissioned_on"].to_numpy(dtype="datetime64[ns]").view(np.int64),
        context.text.products().lexical,
    ):
        h.update(np.ascontiguousarray(a).tobytes())
    context.text.texts_digest(h)
    if cases is not None:
        h.update(cases.commission_ids.tobytes())
        h.update("|".join(map(str, cases.products)).encode())
    return h.hexdigest()[:20]


def save_state(state: ExplainerState, folder: str | Path, fingerprint: str) -> Path:
    """Write the snapshot's arrays of ``state`` into ``folder`` (replaced whole)."""
    folder = Path(folder)
    best = state.best
    clients = np.fromiter(best, dtype=np.int64, count=len(best))
    shape = (0, len(state.codes), 2)
    table = np.stack([best[int(c)] for c in clients]) if len(clients) else np.zeros(shape)
    row_ids = state.rows.ids  # the commission id of each row
    with EXPLAINER_FILES.save(folder, fingerprint=fingerprint, codes=list(state.codes)) as tmp:
        np.save(tmp / "latest_rows.npy", state.at)
        np.save(tmp / "sims.npy", state.sims)
        np.save(tmp / "sim_commissions.npy", row_ids)
        np.save(tmp / "best_clients.npy", clients)
        np.save(tmp / "best_cases.npy", table)
    return folder


def load_state(context: RecContext, folder: Path, fingerprint: str) -> ExplainerState | None:
    """The state saved in ``folder`` (arrays mapped) when it is of this snapshot."""
    meta = EXPLAINER_FILES.open(folder, fingerprint=fingerprint)
    if meta is None:
        return None
    try:
        prefetch(folder / "sims.npy", folder / "best_cases.npy")
        sims = np.load(folder / "sims.npy", mmap_mode="c")
        rows = np.load(folder / "sim_commissions.npy")
        clients = np.load(folder / "best_clients.npy")
        table = np.load(folder / "best_cases.npy", mmap_mode="c")
        at = np.load(folder / "latest_rows.npy")
    except (OSError, ValueError) as exc:
        log.warning("explanation arrays in %s unreadable: %s", folder, exc)
        return None
    return replace(
        base_state(context, at),
        codes={c: j for j, c in enumerate(meta["codes"])},
        sims=sims,
        rows=RowIndex(rows),
        best=TableRows(clients, table),
    )
