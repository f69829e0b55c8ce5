"""Explanations grounded in evidence, as short sentences in Chinese and English.

Three kinds of evidence back each offer:

1. the client's **own projects** that triggered it (its commissions most similar to
   the product's past cases and description);
2. **similar past cases**, anonymised ("an agricultural enterprise … bought field trend
   analysis"), from the semantic layer's case summaries or, without one, from the
   kind and field of the buyer only;
3. the **top model factors** (LightGBM contributions, or the strongest sources).

The portal variant never names another client nor quotes another client's commission
text: :class:`~recsvc.recommend.guard.LeakGuard` checks every sentence against other clients'
names and titles and drops a sentence that would.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from cachetools import LRUCache

from recsvc.features import FEATURES
from recsvc.files import prefetch
from recsvc.recommend.context import RecContext
from recsvc.recommend.guard import LeakGuard
from recsvc.recommend.kept import (
    CASE_DEPTH,
    CaseHit,
    CaseHitRecorder,
    CaseHitTable,
    case_hit,
)
from recsvc.recommend.offer import Evidence
from recsvc.recommend.sources import (
    CandidateSource,
    ContentSource,
    LadderSource,
    PurposeSource,
)
from recsvc.serving.artifact import ArtifactKind
from recsvc.store.enums import Surface
from recsvc.store.frames import column_arrays

log = logging.getLogger(__name__)

KIND_LABELS = {
    "in_house_institute": ("所内研究所", "an in-house institute"),
    "enterprise": ("企业", "an enterprise"),
    "research_institute": ("科研院所", "a research institute"),
    "university": ("高校", "a university"),
    "individual": ("个人用户", "an individual client"),
    "other": ("机构", "an organisation"),
}
PURPOSE_LABELS = {
    "project_approval": ("立项", "project approval"),
    "achievement_appraisal": ("成果鉴定", "achievement appraisal"),
    "award_application": ("报奖", "award application"),
    "patent_application": ("专利申请", "patent application"),
    "product_development": ("产品开发", "product development"),
    "market_entry": ("市场进入", "market entry"),
    "other": ("其他", "other purposes"),
}
#: Trigger commissions whose searched similar-case hits an explainer keeps (least
#: recently used go first); those in the version's :class:`CaseHitTable` are read there.
CASE_HITS_CACHED = 20_000
#: Clients whose latest commissions an explainer keeps sliced (a live call looks them up
#: several times). As arrays, not frames: a cached frame kept a hundred objects the
#: cyclic GC tracks, and at 4,096 frames every full collection took 120-200 ms.
COMM_CACHED = 4096
#: The folder of the arrays :meth:`Explainer.save_state` writes.
EXPLAINER_FILES = ArtifactKind("explainer", format=1)


#: Minimum text similarity for an own commission to count as a trigger.
MIN_TRIGGER_SIM = 0.05


@dataclass
class Explanation:
    """Evidence and the reasons (sentences) built from it."""

    evidence: list[Evidence] = field(default_factory=list)

    @property
    def reasons_zh(self) -> list[str]:
        return [e.text_zh for e in self.evidence]

    @property
    def reasons_en(self) -> list[str]:
        return [e.text_en for e in self.evidence]


#: What an own-project sentence reads from a commission.
_PROJECT_FIELDS = ("title_zh", "title_en", "keywords", "commissioned_on", "external_id")
#: What explanations read of a client's latest commissions.
_COMM_FIELDS = ("commission_id", "purpose", *_PROJECT_FIELDS)

#: A client's latest commissions as one array per field of :data:`_COMM_FIELDS`: a live
#: call reads a few values of a few rows, where a frame's per-operation cost dominated.
_Projects = dict[str, np.ndarray]


def _projects(frame: pd.DataFrame) -> _Projects:
    return {c: frame[c].to_numpy() for c in _COMM_FIELDS if c in frame}


def _title(row: Mapping[str, Any], columns: Sequence[str]) -> str:
    """The first readable text among ``columns`` (missing and ``nan`` values skipped)."""
    for c in columns:
        v = row.get(c)
        if isinstance(v, str) and v.strip() and v.strip().lower() != "nan":
            return v
    return ""


def _days_before(cutoff: pd.Timestamp, when: np.ndarray) -> np.ndarray:
    """Whole days from each ``datetime64`` in ``when`` to ``cutoff`` (``nan`` for NaT).

    numpy, not ``Series.dt``: a live call asks this of one client's few rows, where
    pandas' per-operation overhead was most of the cost.
    """
    when = when.astype("datetime64[ns]")
    ns = pd.Timestamp(cutoff).as_unit("ns").value - when.astype(np.int64)
    days = np.floor_divide(ns, 86_400 * 10**9).astype(float)
    days[np.isnat(when)] = np.nan
    return days


class Explainer:
    """Builds :class:`Explanation` objects from fitted sources and a context.

    Args:
        context: the serving context.
        sources: the fitted candidate sources (by name).
        semantic: the semantic layer for anonymised case summaries (optional).
    """

    def __init__(
        self, context: RecContext, sources: Sequence[CandidateSource], semantic: Any | None = None
    ) -> None:
        self.context = context
        self.sources = {s.name: s for s in sources}
        self.semantic = semantic
        self._guard: LeakGuard | None = None
        # trigger commission -> compact hits; bounded, and tuples of plain values so a
        # long-running server neither grows nor hands the GC objects to traverse
        self._case_hits: LRUCache[int, tuple[CaseHit, ...]] = LRUCache(CASE_HITS_CACHED)
        #: the version's saved hits (:meth:`use_case_table`); searched live without
        self.case_table: CaseHitTable | None = None
        self._recorder: CaseHitRecorder | None = None
        self._lock = threading.RLock()
        self._prepared: dict[str, Any] | None = None
        self._comm_cache: LRUCache[int, _Projects] = LRUCache(COMM_CACHED)
        products = context.products.set_index("code")
        self.names = {c: (str(r["name_zh"]), str(r["name_en"])) for c, r in products.iterrows()}

    # -- forbidden strings ---------------------------------------------------------
    def guard(self) -> LeakGuard:
        """Every client's name, external id and commission titles (built once)."""
        if self._guard is None:
            self._guard = LeakGuard.from_frames(self.context.history)
        return self._guard

    def leaks_for(self, client_id: int, text: str) -> bool:
        """Whether ``text`` contains a string of any *other* client."""
        return bool(self.guard().owners(text) - {client_id})

    # -- per-client similarities (batch-precomputed, looked up per call) -------------
    def prepare(self, saved: str | Path | None = None) -> Explainer:
        """Precompute, for every client at once, what explanations look up.

        Each client's latest commissions (sorted), its purchases, and for every such
        commission its best text similarity to each product (the product's past cases
        and its description) in chunked matrix products. Called once when a
        recommender is built; later calls are lookups (safe from several threads).

        Args:
            saved: a folder of :meth:`save_state`. When it holds the arrays of this
                snapshot (same :meth:`fingerprint`) they are memory-mapped instead of
                computed, the dearest part of loading a model for a server worker;
                otherwise they are computed in memory (never written here).
        """
        if saved is not None and self._load_state(Path(saved), self.fingerprint()):
            return self
        state = self._state()
        ids = self.context.clients.index.to_numpy(dtype=np.int64)
        state.setdefault("best_cases", {}).update(self._best_cases(ids))
        return self

    def fingerprint(self) -> str:
        """What the precomputed arrays depend on: the cutoff, every commission (id,
        client, date, text), the product columns and texts, the past cases."""
        ctx = self.context
        h = hashlib.sha256(str(ctx.cutoff).encode())
        h.update(json.dumps(list(self._code_columns())).encode())
        c = ctx.frames.commissions
        ids = c["commission_id"].to_numpy(dtype=np.int64)
        for a in (
            ids,
            c["client_id"].to_numpy(dtype=np.int64),
            c["commissioned_on"].to_numpy(dtype="datetime64[ns]").view(np.int64),
            ctx.text.hashes(ids),
            ctx.text.products().lexical,
        ):
            h.update(np.ascontiguousarray(a).tobytes())
        content = self.sources.get("content")
        if isinstance(content, ContentSource):
            h.update(content.cases_["commission_id"].to_numpy(dtype=np.int64).tobytes())
            h.update("|".join(map(str, content.case_products_)).encode())
        return h.hexdigest()[:20]

    def save_state(self, folder: str | Path) -> Path:
        """Write the arrays :meth:`prepare` computed, for this snapshot, into ``folder``
        (replaced whole): training and ``recsvc serving build`` do, servers never."""
        folder = Path(folder)
        state = self._state()
        best = state.get("best_cases", {})
        clients = np.fromiter(best, dtype=np.int64, count=len(best))
        shape = (0, len(state["codes"]), 2)
        table = np.stack([best[int(c)] for c in clients]) if len(clients) else np.zeros(shape)
        row_ids = np.zeros(len(state["rows"]), dtype=np.int64)  # commission id of each row
        row_ids[np.fromiter(state["rows"].values(), dtype=np.int64)] = list(state["rows"])
        with EXPLAINER_FILES.save(
            folder, fingerprint=self.fingerprint(), codes=list(state["codes"])
        ) as tmp:
            np.save(tmp / "sims.npy", state["sims"])
            np.save(tmp / "sim_commissions.npy", row_ids)
            np.save(tmp / "best_clients.npy", clients)
            np.save(tmp / "best_cases.npy", table)
        return folder

    def _load_state(self, folder: Path, fingerprint: str) -> bool:
        """Adopt the arrays saved in ``folder`` when they are this snapshot's."""
        meta = EXPLAINER_FILES.open(folder, fingerprint=fingerprint)
        if meta is None:
            return False
        try:
            prefetch(folder / "sims.npy", folder / "best_cases.npy")
            sims = np.load(folder / "sims.npy", mmap_mode="c")
            rows = np.load(folder / "sim_commissions.npy")
            clients = np.load(folder / "best_clients.npy")
            table = np.load(folder / "best_cases.npy", mmap_mode="c")
        except (OSError, ValueError) as exc:
            log.warning("explanation arrays in %s unreadable: %s", folder, exc)
            return False
        with self._lock:
            state = self._base_state()
            state["codes"] = {c: j for j, c in enumerate(meta["codes"])}
            state["sims"] = sims
            state["rows"] = {c: i for i, c in enumerate(rows.tolist())}
            state["best_cases"] = {c: table[i] for i, c in enumerate(clients.tolist())}
            self._prepared = state
        return True

    def _state(self) -> dict[str, Any]:
        state = self._prepared
        if state is not None:
            return state
        with self._lock:
            state = self._prepared
            if state is not None:
                return state
            state = self._base_state()
            self._add_sims(state, state["latest"]["commission_id"].to_numpy(dtype=np.int64))
            self._prepared = state
            return state

    def _base_state(self) -> dict[str, Any]:
        """Each client's latest commissions and purchases (no similarities yet)."""
        ctx = self.context
        latest = (
            ctx.frames.commissions.sort_values(["client_id", "commissioned_on"], kind="stable")
            .groupby("client_id", sort=False)
            .tail(30)
        )
        # row positions only: a frame per client would be 100k small frames at 100k clients
        positions = latest.groupby("client_id", sort=False).indices
        bought = {
            int(c): list(dict.fromkeys(g["product_code"].astype(str)))
            for c, g in ctx.orders.groupby("client_id")
        }
        one_off = {}
        if "one_off" in ctx.products:
            one_off = {
                str(c): bool(v) if pd.notna(v) else False
                for c, v in zip(ctx.products["code"], ctx.products["one_off"], strict=True)
            }
        return {
            "latest": latest,
            "columns": _projects(latest),
            "positions": {int(c): rows for c, rows in positions.items()},
            "added": {},
            "bought": bought,
            "one_off": one_off,
            "codes": {},
            "rows": {},
            "sims": np.zeros((0, 0), dtype=np.float32),
        }

    def _code_columns(self) -> dict[str, int]:
        ctx = self.context
        codes = list(dict.fromkeys([*map(str, ctx.codes), *map(str, ctx.text.product_codes_)]))
        return {c: j for j, c in enumerate(codes)}

    def _add_sims(
        self, state: dict[str, Any], commission_ids: np.ndarray, chunk: int = 2048
    ) -> None:
        """Append the best similarity of each commission to each product (``-inf``: none)."""
        ctx = self.context
        if not state["codes"]:
            state["codes"] = self._code_columns()
        cols = state["codes"]
        new = [
            int(c) for c in dict.fromkeys(commission_ids.tolist()) if int(c) not in state["rows"]
        ]
        if not new:
            return
        found = self.sources.get("content")
        content = found if isinstance(found, ContentSource) and len(found.case_products_) else None
        text_cols = [(cols[str(c)], j) for j, c in enumerate(ctx.text.product_codes_)]
        case_cols: list[tuple[int, slice]] = []
        if content is not None:  # each product's cases are a contiguous column range
            spans = content.case_spans_
            case_cols = [(j, slice(*spans[c])) for c, j in cols.items() if c in spans]
        out = np.full((len(new), len(cols)), -np.inf, dtype=np.float32)
        new_arr = np.asarray(new, dtype=np.int64)
        for start in range(0, len(new), chunk):
            vecs = ctx.text.commissions(new_arr[start : start + chunk])
            block = out[start : start + chunk]
            if content is not None:
                cs = ctx.text.similarity(vecs, content.case_vectors_)
                for j, span in case_cols:
                    block[:, j] = cs[:, span].max(axis=1)
            ps = ctx.text.similarity(vecs, ctx.text.products())
            for j, t in text_cols:
                block[:, j] = np.maximum(block[:, j], ps[:, t])
        base = len(state["sims"])
        sims = out if base == 0 else np.vstack([state["sims"], out])
        rows_map = dict(state["rows"])
        rows_map.update({c: base + i for i, c in enumerate(new)})
        state["sims"], state["rows"] = sims, rows_map

    def _frame(self, client_id: int) -> pd.DataFrame:
        """The client's latest commissions as rows of the snapshot (sorted by date)."""
        state = self._state()
        cid = int(client_id)
        frame = state["added"].get(cid)
        if frame is not None:
            return frame
        rows = state["positions"].get(cid)
        if rows is not None:
            return state["latest"].iloc[rows]
        # a client added after the snapshot (or without commissions)
        ctx = self.context
        all_comm = ctx.frames.commissions
        frame = all_comm[all_comm["client_id"] == cid].sort_values("commissioned_on").tail(30)
        o = ctx.orders[ctx.orders["client_id"] == cid]
        state["bought"][cid] = list(dict.fromkeys(o["product_code"].astype(str)))
        state["added"][cid] = frame
        return frame

    def _comm(self, client_id: int) -> _Projects:
        """The client's latest commissions as arrays (lookups in the prepared state)."""
        cid = int(client_id)
        with self._lock:
            comm = self._comm_cache.get(cid)
        if comm is None:
            state = self._state()
            rows = state["positions"].get(cid)
            if rows is not None and cid not in state["added"]:
                comm = {c: a[rows] for c, a in state["columns"].items()}
            else:
                comm = _projects(self._frame(cid))
            with self._lock:
                self._comm_cache[cid] = comm
        return comm

    def _bought(self, client_id: int) -> list[str]:
        """Products the client bought, first purchase first."""
        state = self._state()
        bought, cid = state["bought"], int(client_id)
        if cid not in bought and cid not in state["positions"]:
            self._frame(cid)  # a client added after the snapshot: read its orders
        return bought.get(cid, [])

    def _comm_sims(self, comm: _Projects, code: str) -> np.ndarray | None:
        """Best similarity of each of ``comm``'s commissions to ``code`` (``None``: no text)."""
        state = self._state()
        ids = comm["commission_id"]
        if not len(ids):
            return None
        if any(int(c) not in state["rows"] for c in ids):
            with self._lock:
                self._add_sims(state, ids)
        j = state["codes"].get(code)
        if j is None:
            return None
        rows = state["rows"]
        sim = state["sims"][[rows[int(c)] for c in ids], j]
        return None if not len(sim) or np.isneginf(sim).all() else sim

    def _recency(self, client_id: int, comm: _Projects) -> np.ndarray:
        """``0.5 + 0.5 * 2^(-age / 730 days)`` per commission of ``comm`` (memoised per client)."""
        memo = self._state().setdefault("recency", {})
        w = memo.get(int(client_id))
        if w is None or len(w) != len(comm["commission_id"]):
            age = _days_before(self.context.cutoff, comm["commissioned_on"])
            w = 0.5 + 0.5 * np.power(0.5, np.maximum(age, 0.0) / 730.0)
            memo[int(client_id)] = w
        return w

    def _recent_purposes(self, client_id: int, lookback_days: int) -> np.ndarray:
        """Distinct purposes of the client's commissions within ``lookback_days``."""
        memo = self._state().setdefault("purposes", {})
        key = (int(client_id), int(lookback_days))
        found = memo.get(key)
        if found is None:
            comm = self._comm(client_id)
            since = np.datetime64(self.context.cutoff - pd.Timedelta(days=lookback_days), "ns")
            recent = comm["commissioned_on"].astype("datetime64[ns]") >= since  # NaT: not recent
            purposes = comm["purpose"][recent]
            found = np.array(
                list(dict.fromkeys("other" if pd.isna(p) else str(p) for p in purposes)),
                dtype=object,
            )
            memo[key] = found
        return found

    def _best_cases(self, client_ids: np.ndarray, chunk: int = 1024) -> dict[int, np.ndarray]:
        """Per client: ``(best case row, similarity)`` per product code column.

        The best case of a product is its past case most similar to the client's
        recency-weighted commission vector, the client's own cases excluded
        (row ``-1``: none). One matrix product per chunk of clients.
        """
        ctx = self.context
        content = self.sources.get("content")
        state = self._state()
        if not isinstance(content, ContentSource) or content.cases_.empty:
            return {}
        case_clients = content.cases_["client_id"].to_numpy()
        cols = state["codes"] or self._code_columns()
        spans = content.case_spans_  # each product's cases are a contiguous column range
        per_code = [(j, spans[code]) for code, j in cols.items() if code in spans]
        ids = np.asarray(client_ids, dtype=np.int64)
        out: dict[int, np.ndarray] = {}
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            comms = [self._frame(int(c)) for c in part]
            comm = pd.concat(comms) if comms else ctx.frames.commissions.iloc[:0]
            best = np.full((len(part), len(cols), 2), np.nan)
            best[:, :, 0] = -1
            if not comm.empty:
                vec, _ = ctx.text.client_vectors(comm, part, ctx.cutoff)
                sims = ctx.text.similarity(vec, content.case_vectors_)
            else:
                sims = np.zeros((len(part), len(case_clients)), dtype=np.float32)
            for j, (a, b) in per_code:
                own = case_clients[a:b][None, :] == part[:, None]
                sub = np.where(own, -np.inf, sims[:, a:b])
                arg = np.argmax(sub, axis=1)
                val = sub[np.arange(len(part)), arg]
                ok = np.isfinite(val)
                best[:, j, 0] = np.where(ok, a + arg, -1)
                best[:, j, 1] = np.where(ok, val, np.nan)
            for i, c in enumerate(part):
                out[int(c)] = best[i]
        return out

    def _best_case(self, client_id: int, code: str) -> tuple[int, float] | None:
        state = self._state()
        memo = state.setdefault("best_cases", {})
        cid = int(client_id)
        if cid not in memo:
            memo.update(self._best_cases(np.array([cid], dtype=np.int64)))
        j = state["codes"].get(code)
        row = memo.get(cid)
        if row is None or j is None or row[j, 0] < 0:
            return None
        return int(row[j, 0]), float(row[j, 1])

    # -- evidence ------------------------------------------------------------------
    def own_projects(self, client_id: int, code: str, k: int = 2) -> list[Evidence]:
        """The client's own commissions most similar to the product's cases/description."""
        comm = self._comm(client_id)
        sim = self._comm_sims(comm, code)
        if sim is None:
            return []
        sim = sim * self._recency(client_id, comm)  # prefer recent projects
        order = np.argsort(-sim)[:k]
        out = []
        for i in order:
            if sim[i] < MIN_TRIGGER_SIM:
                continue
            r = {c: comm[c][i] for c in _PROJECT_FIELDS if c in comm}
            zh_t = _title(r, ("title_zh", "title_en", "keywords"))
            en_t = _title(r, ("title_en", "title_zh", "keywords"))
            when = str(np.datetime64(r["commissioned_on"], "M"))  # 2024-05
            out.append(
                Evidence.model_construct(
                    kind="own_project",
                    text_zh=f"与查新项目“{zh_t}”（{when}）方向一致",
                    text_en=f"Matches the novelty-search project “{en_t}” ({when})",
                    ref=str(r.get("external_id") or ""),
                    score=float(sim[i]),
                )
            )
        return out

    def similar_cases(
        self, client_id: int, code: str, surface: Surface, trigger: int | None, k: int = 1
    ) -> list[Evidence]:
        """Anonymised past cases of the same product resembling the client's projects.

        ``trigger`` is one of the client's own commissions (:meth:`own_projects` chose
        it), so its hits may be searched in librarian scope and shared by surfaces: the
        portal drops a case whose sentence would quote another client, and neither
        surface cites one of the client's own cases.
        """
        portal = surface == Surface.PORTAL
        out: list[Evidence] = []
        if self.semantic is not None and trigger is not None:
            try:
                hits = self._candidates(trigger, code, client_id)
            except Exception:
                log.info("semantic similar_cases unavailable for %s", client_id, exc_info=True)
                hits = iter(())
            for hit_id, score, _, _, en, zh in hits:
                if not en or (
                    portal and (self.leaks_for(client_id, en) or self.leaks_for(client_id, zh))
                ):
                    continue
                out.append(
                    Evidence.model_construct(
                        kind="similar_case",
                        text_zh=f"相似案例：{zh}",
                        text_en=f"Similar case: {en}",
                        ref=None if portal else hit_id,
                        score=score,
                    )
                )
                if len(out) >= k:
                    return out
        return out or self._own_case(client_id, code, k)

    def _candidates(self, trigger: int, code: str, client_id: int) -> Iterator[CaseHit]:
        """Similar-case hits of ``trigger`` that are other clients' cases of ``code``,
        best first: from the version's table, else from a search."""
        table = self.case_table
        found = table.matching(trigger, code, client_id) if table is not None else None
        if found is not None:
            return found
        return (h for h in self._hits_of(trigger) if h[2] == code and h[3] != client_id)

    def _hits_of(self, trigger: int) -> tuple[CaseHit, ...]:
        """The similar-case hits of one commission: remembered or searched."""
        with self._lock:
            hits = self._case_hits.get(trigger)
        if hits is not None:
            return hits
        if self.semantic is None:  # no index: no similar cases to search
            return ()
        found = self.semantic.similar_cases(trigger, CASE_DEPTH)
        hits = tuple(case_hit(h) for h in found)
        with self._lock:
            self._case_hits[trigger] = hits
            if self._recorder is not None:
                self._recorder.add(trigger, hits)
        return hits

    def record_case_hits(self) -> None:
        """Keep the hits of every trigger searched from now on, for :meth:`save_case_hits`."""
        self._recorder = CaseHitRecorder()
        self.case_table = None  # so that every trigger is searched and recorded
        with self._lock:
            self._case_hits.clear()

    def save_case_hits(self, folder: Path) -> None:
        """Write the searches recorded since :meth:`record_case_hits` as a table."""
        if self._recorder is None or self.semantic is None:
            raise RuntimeError("record_case_hits() first, with a semantic layer")
        self._recorder.save(Path(folder), self.semantic.signature())

    def use_case_table(self, folder: Path) -> None:
        """Read similar-case hits from a version's saved table when it is of this index."""
        if self.semantic is not None:
            self.case_table = CaseHitTable.open(Path(folder), self.semantic.signature())

    def _own_case(self, client_id: int, code: str, k: int) -> list[Evidence]:
        """Fallback case sentence from the buyer's kind and field only (no text quoted)."""
        content = self.sources.get("content")
        if not isinstance(content, ContentSource) or content.cases_.empty:
            return []
        cases = content.cases_
        case_clients = cases["client_id"].to_numpy()
        found = self._best_case(client_id, code)
        if found is None:
            return []
        best, best_sim = found
        clients = self.context.clients
        at = clients.index.get_loc(int(case_clients[best]))
        buyer = column_arrays(clients)
        kind_zh, kind_en = KIND_LABELS.get(str(buyer["kind"][at]), KIND_LABELS["other"])
        field = buyer["industry_field"][at] if "industry_field" in buyer else None
        field = str(field) if isinstance(field, str) and field else ""
        zh_name, en_name = self.names.get(code, (code, code))
        where_zh = f"{field}领域的" if field else ""
        where_en = f" in {field}" if field else ""
        return [
            Evidence.model_construct(
                kind="similar_case",
                text_zh=f"相似案例：一家{where_zh}{kind_zh}在相近的查新项目之后购买了{zh_name}",
                text_en=f"Similar case: {kind_en}{where_en} bought {en_name.lower()} "
                "after a similar novelty-search project",
                score=best_sim,
            )
        ][:k]

    def factors(
        self,
        client_id: int,
        code: str,
        source_scores: Mapping[str, float],
        contributions: Sequence[tuple[str, float]] = (),
        k: int = 2,
    ) -> list[Evidence]:
        """Top model factors as sentences (sources first, then other features)."""
        names: list[str] = []
        for feat, _ in contributions:
            name = feat.removeprefix("src_").removeprefix("rank_")
            if name in self.sources and name not in names:
                names.append(name)
            elif (
                not feat.startswith(("src_", "rank_", "product_idx", "category_idx"))
                and feat not in names
            ):
                names.append(feat)
        if not contributions:
            ranked = sorted(
                ((n, v) for n, v in source_scores.items() if v is not None and np.isfinite(v)),
                key=lambda t: -t[1],
            )
            names = [n for n, _ in ranked]
        out: list[Evidence] = []
        for name in names:
            ev = self._factor_sentence(client_id, code, name, source_scores.get(name))
            if ev is not None:
                out.append(ev)
            if len(out) >= k:
                break
        return out

    def _factor_sentence(
        self, client_id: int, code: str, name: str, value: float | None
    ) -> Evidence | None:
        zh_p, en_p = self.names.get(code, (code, code))
        if name == "look-alike" and value is not None and np.isfinite(value) and value > 0:
            return Evidence.model_construct(
                kind="factor",
                text_zh=f"研究方向相近的客户中约{value:.0%}购买过{zh_p}",
                text_en=f"About {value:.0%} of clients with similar research directions "
                f"bought {en_p.lower()}",
                score=value,
            )
        if name == "ladder":
            prev = self._ladder_prev(client_id, code)
            if prev is None:
                return None
            zh_a, en_a = self.names.get(prev, (prev, prev))
            return Evidence.model_construct(
                kind="factor",
                text_zh=f"常见的服务升级路径：{zh_a} → {zh_p}",
                text_en=f"A common service path: {en_a.lower()} → {en_p.lower()}",
            )
        if name == "purpose":
            found = self._purpose_lift(client_id, code)
            if found is None:
                return None
            purpose, lift = found
            zh_u, en_u = PURPOSE_LABELS.get(purpose, (purpose, purpose))
            return Evidence.model_construct(
                kind="factor",
                text_zh=f"以“{zh_u}”为目的的查新之后，{zh_p}的购买率是平均的{lift:.1f}倍",
                text_en=f"After commissions for {en_u}, {en_p.lower()} is bought "
                f"{lift:.1f}x as often as average",
                score=lift,
            )
        if name == "content" and value is not None and np.isfinite(value) and value > 0:
            return Evidence.model_construct(
                kind="factor",
                text_zh=f"研究方向与{zh_p}的以往案例相近",
                text_en=f"The research direction resembles past cases of {en_p.lower()}",
                score=value,
            )
        if name == "popular-in-segment":
            return Evidence.model_construct(
                kind="factor",
                text_zh="在同类、同领域客户中较受欢迎",
                text_en="Popular among clients of the same kind and field",
            )
        if name in ("owned", "days_since_owned") and self._owned(client_id, code):
            if self._state()["one_off"].get(code, False):
                return Evidence.model_construct(
                    kind="factor",
                    text_zh=f"曾购买过{zh_p}",
                    text_en=f"Bought {en_p.lower()} before",
                )
            return Evidence.model_construct(
                kind="factor",
                text_zh=f"曾购买过{zh_p}，适合续购",
                text_en=f"Bought {en_p.lower()} before; due for renewal",
            )
        if name == "value_proba" or name.startswith(("cf_", "basic_")):
            return self._feature_sentence(name)
        return None

    def _owned(self, client_id: int, code: str) -> bool:
        return code in self._bought(client_id)

    def _feature_sentence(self, name: str) -> Evidence | None:
        if name == "value_proba":
            return Evidence.model_construct(
                kind="factor",
                text_zh="价值模型判断该客户近期购买可能性高",
                text_en="The value model rates this client likely to buy soon",
            )
        key = name.removeprefix("cf_")
        doc = FEATURES.get(key)
        if doc is not None:
            return Evidence.model_construct(
                kind="factor", text_zh=f"客户特征：{doc.zh}", text_en=f"Client profile: {doc.en}"
            )
        if name.startswith("basic_n_comm"):
            return Evidence.model_construct(
                kind="factor",
                text_zh="近期查新委托较多",
                text_en="Several recent novelty-search commissions",
            )
        return None

    def _ladder_prev(self, client_id: int, code: str) -> str | None:
        ladder = self.sources.get("ladder")
        if not isinstance(ladder, LadderSource):
            return None
        bought = [c for c in self._bought(client_id) if c != code]
        if not bought:
            return None
        j = list(ladder.codes_).index(code)
        best = max(
            bought,
            key=lambda a: (
                ladder.transitions_[ladder.states_.index(a), j] if a in ladder.states_ else 0.0
            ),
        )
        return str(best)

    def _lifts(self, src: PurposeSource) -> dict[str, dict[str, float]]:
        """The purpose source's lifts as ``{purpose: {code: lift}}`` (built once)."""
        state = self._state()
        if state.get("lifts_of") is not src.lift_:
            state["lifts"] = {
                str(u): {str(c): float(v) for c, v in row.items()}
                for u, row in src.lift_.to_dict("index").items()
            }
            state["lifts_of"] = src.lift_
        return state["lifts"]

    def _purpose_lift(self, client_id: int, code: str) -> tuple[str, float] | None:
        src = self.sources.get("purpose")
        if not isinstance(src, PurposeSource):
            return None
        purposes = self._recent_purposes(client_id, src.lookback_days)
        table = self._lifts(src)
        lifts = [(u, table[u][code]) for u in purposes if u in table and code in table[u]]
        if not lifts:
            return None
        u, lift = max(lifts, key=lambda t: t[1])
        return (u, lift) if lift > 1.2 else None

    def _triggers(self) -> dict[str, int]:
        """``external_id -> commission_id`` over the history (rebuilt when it grows)."""
        hist = self.context.history.commissions
        state = self._state()
        if state.get("triggers_of") is not hist:
            ext = hist[["external_id", "commission_id"]].dropna().drop_duplicates("external_id")
            state["triggers"] = {
                str(e): int(c)
                for e, c in zip(ext["external_id"], ext["commission_id"], strict=True)
            }
            state["triggers_of"] = hist
        return state["triggers"]

    # -- the whole explanation -------------------------------------------------------
    def explain(
        self,
        client_id: int,
        code: str,
        *,
        surface: Surface,
        source_scores: Mapping[str, float],
        contributions: Sequence[tuple[str, float]] = (),
    ) -> Explanation:
        """Own projects, one similar case and up to two factors, in that order."""
        own = self.own_projects(client_id, code, k=1)
        trigger = self._triggers().get(own[0].ref) if own and own[0].ref else None
        cases = self.similar_cases(client_id, code, surface, trigger, k=1)
        facts = self.factors(client_id, code, source_scores, contributions, k=2)
        evidence = [*own, *cases, *facts]
        if surface == Surface.PORTAL:
            # own projects are the client's own text and factors are our templates; case
            # sentences carry text from other clients' records and must not leak
            evidence = [
                e
                for e in evidence
                if e.kind != "similar_case"
                or not (
                    self.leaks_for(client_id, e.text_zh) or self.leaks_for(client_id, e.text_en)
                )
            ]
        if not evidence:  # always say something true: the segment-popularity factor
            fallback = self._factor_sentence(client_id, code, "popular-in-segment", None)
            evidence = [fallback] if fallback is not None else []
        return Explanation(evidence)
