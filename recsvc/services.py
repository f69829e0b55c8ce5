"""``Services``: the one container the API, the web console and the CLI all build.

It holds the store, the key cache, the semantic layer and the loaded model bundle.
The bundle (value model, CLV model, recommender, precomputed portal
recommendations, version) sits behind ONE reference that is replaced atomically
after a new bundle is fully loaded, so a promote or rollback never lets a request
see a half-loaded model: a request reads :attr:`Services.bundle` once and uses that
object to the end.

Training never runs in the serving process: :meth:`Services.start_training` records
a job in ``training_jobs`` and launches ``recsvc train-job JOB_ID`` (a hidden CLI
command that imports :mod:`training` lazily) in a subprocess; a watcher thread
hot-swaps the new bundle in when it finishes.

Example:
    >>> services = Services.build(Settings(database_url="sqlite://"))
    >>> services.bundle is None   # nothing trained yet
    True
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import bindparam, func, or_, select

from recsvc.auth import Principal, hash_secret, verify_key
from recsvc.config import Settings
from recsvc.errors import Conflict, InvalidInput, NotFound, NotReady, Problem, RecsvcError
from recsvc.ingest import import_file
from recsvc.recommend import feedback
from recsvc.recommend import worklist as recommend_worklist
from recsvc.recommend.feedback import Shown
from recsvc.recommend.worklist import WorklistRow
from recsvc.registry import Registry
from recsvc.semantic import Embedder, SearchHit, SemanticLayer, set_search_threads
from recsvc.serving import ServingBundle, freeze_heap, open_bundle
from recsvc.store.db import Database
from recsvc.store.enums import DeclineReason, EventType, JobStatus, Surface
from recsvc.store.frames import load_frames
from recsvc.store.models import (
    Client,
    Commission,
    Complaint,
    Contact,
    Feedback,
    Interaction,
    Order,
    Product,
    RecommendationEvent,
    TrainingJob,
)
from recsvc.value import STRATEGIES
from recsvc.value.clv import CLV_COLUMNS

__all__ = ["ClientFilters", "RecResult", "Services", "WorklistFilters"]

log = logging.getLogger(__name__)

_KEY_CACHE_SECONDS = 5.0
_KEEP_BUNDLES = 2
#: How the server runs a training job: the hidden CLI command in a fresh interpreter,
#: so :mod:`training` is never imported by the serving process.
_TRAIN_JOB_ARGV = (sys.executable, "-c", "from recsvc.cli import main; main()", "train-job")
_IMPORT_SUFFIXES = frozenset({".csv", ".xlsx", ".json", ".jsonl"})
#: Worklist columns as exported: public name → Chinese heading.
WORKLIST_COLUMNS: dict[str, str] = {
    "rank": "序号",
    "client_external_id": "客户编号",
    "client_name": "客户名称",
    "segment": "客户分类",
    "industry_field": "行业领域",
    "account_manager": "负责人",
    "product_code": "产品代码",
    "product_name_zh": "推荐产品",
    "product_name_en": "产品(英文)",
    "score": "购买概率",
    "expected_value": "期望价值",
    "reason_zh": "推荐理由",
    "reason_en": "理由(英文)",
    "action_zh": "关系维护动作",
    "action_en": "动作(英文)",
}
#: Every client route translates the public id: one statement, built once.
_CLIENT_ID_OF = select(Client.id).where(Client.external_id == bindparam("external_id"))
#: Search-hit metadata that may leave the service (internal ids never do).
_PUBLIC_HIT_META = ("external_id", "product_code", "summary_zh", "category", "ordered_on")


@dataclass(frozen=True)
class RecResult:
    """Recommendations as served: which model, which surface, precomputed or live.

    ``items`` are products; ``actions`` the relationship actions of the client's segment
    strategy, kept in their own slots beside the products.
    """

    version: str
    surface: Surface
    served_from: Literal["precomputed", "live"]
    items: list[dict[str, Any]]
    actions: list[dict[str, Any]] = field(default_factory=list)
    encoded: bytes | None = None
    """The items as a JSON array, when served precomputed with ``raw=True``."""
    count: int | None = None

    @property
    def n(self) -> int:
        """How many items (also when only ``encoded`` is set)."""
        return self.count if self.count is not None else len(self.items)


@dataclass(frozen=True)
class WorklistFilters:
    """Filters for the worklist (all optional)."""

    segment: str | None = None
    account_manager: str | None = None
    kind: str | None = None
    product: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class ClientFilters:
    """Filters for listing clients (all optional, combined with AND)."""

    q: str | None = None
    kind: str | None = None
    industry: str | None = None
    account_manager: str | None = None
    region: str | None = None


class Services:
    """The service container. Build it once per process with :meth:`build`."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        embedder: Embedder | None = None,
        job_argv: Sequence[str] | None = None,
        warm_worklist: bool = True,
    ) -> None:
        self.settings = settings
        self.db = db
        self._bundle: ServingBundle | None = None
        self._swap_lock = threading.Lock()
        self._admin_lock = threading.RLock()
        self._key_cache: dict[str, tuple[float, Principal]] = {}
        self._jobs: dict[str, subprocess.Popen[bytes]] = {}
        self._bundle_loader: Callable[[Services, str], ServingBundle] = _load_bundle
        self._semantic: SemanticLayer | None = None
        self._recent: dict[str, ServingBundle] = {}
        self._embedder = embedder
        self._job_argv = list(job_argv or _TRAIN_JOB_ARGV)
        self.warm_worklist = warm_worklist
        self.load_error: str | None = None
        """Why the active version failed to load at start, if it did."""

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        load_model: bool = True,
        job_argv: Sequence[str] | None = None,
        warm_worklist: bool = True,
    ) -> Services:
        """Open (and migrate) the store and load the active model version if any.

        Args:
            settings: the configuration.
            embedder: the text embedder for queries (default: the configured model,
                loaded on first use); tests pass a ``FakeEmbedder``.
            load_model: load the registry's active version now.
            job_argv: the command a training job runs (its id is appended); tests use
                a stand-in to exercise the job plumbing without training.
            warm_worklist: rank the default worklist while loading a bundle (before it
                serves), so the first worklist request is fast.
        """
        set_search_threads(settings.search_threads)
        db = Database.from_settings(settings)
        db.upgrade()
        services = cls(
            settings, db, embedder=embedder, job_argv=job_argv, warm_worklist=warm_worklist
        )
        if load_model:
            try:
                services.reload_model()
            except Exception as exc:  # serve what works; /readyz and 503s say why
                services.load_error = (
                    exc.detail if isinstance(exc, RecsvcError) else f"{type(exc).__name__}: {exc}"
                )
                log.exception("no model in service: %s", services.load_error)
        return services

    def close(self) -> None:
        """Release the store's connections."""
        self.db.dispose()

    # -- auth ------------------------------------------------------------------
    def authenticate(self, secret: str | None) -> Principal:
        """The principal for a key, cached for a few seconds (revocation lags by that).

        The cache is keyed by the key's hash; plaintext secrets are not kept.
        """
        if not secret:
            return verify_key(self.db, secret)
        digest = hash_secret(secret)
        now = time.monotonic()
        hit = self._key_cache.get(digest)
        if hit is not None and now - hit[0] < _KEY_CACHE_SECONDS:
            return hit[1]
        principal = verify_key(self.db, secret)
        if len(self._key_cache) > 10_000:
            self._key_cache.clear()
        self._key_cache[digest] = (now, principal)
        return principal

    # -- the model bundle ----------------------------------------------------------
    @property
    def bundle(self) -> ServingBundle | None:
        """The bundle in service now (read it once per request)."""
        return self._bundle

    def require_bundle(self) -> ServingBundle:
        """The bundle in service, or :class:`NotReady` when nothing is trained yet."""
        bundle = self._bundle
        if bundle is None:
            if self.load_error:
                raise NotReady(f"the active model could not be loaded: {self.load_error}")
            raise NotReady("no model is loaded yet: train one (recsvc train) and promote it")
        return bundle

    def reload_model(self, version: str | None = None) -> ServingBundle | None:
        """Load ``version`` (default: the registry's active one) and swap it in atomically."""
        with self._admin_lock:
            if version is None:
                version = self._active_version()
                if version is None:
                    return self._bundle
            current = self._bundle
            if current is not None and current.version == version:
                return current
            bundle = self._load(version)
            self._swap(bundle)
            return bundle

    def _load(self, version: str) -> ServingBundle:
        """Load a bundle completely (nobody sees it before it is whole).

        The last few bundles stay in memory, so swapping back (rollback, alternating
        promotes) is instant; an import into the store forgets them.
        """
        bundle = self._recent.get(version)
        if bundle is None:
            bundle = self._bundle_loader(self, version)
            self._recent[version] = bundle
            while len(self._recent) > _KEEP_BUNDLES:
                self._recent.pop(next(iter(self._recent)))
        return bundle

    def data_changed(self) -> None:
        """The store changed (an import): reload the serving version on fresh data, in
        the background; requests keep using the current bundle until the swap."""
        self._recent.clear()
        bundle = self._bundle
        if bundle is None:
            return

        def reload() -> None:
            with self._admin_lock:
                current = self._bundle
                if current is None:
                    return
                try:
                    self._swap(self._bundle_loader(self, current.version))
                except Exception:  # the old bundle keeps serving
                    log.exception("reloading %s after an import failed", current.version)

        threading.Thread(target=reload, name="reload-after-import", daemon=True).start()

    def _swap(self, bundle: ServingBundle) -> None:
        with self._swap_lock:
            self._bundle = bundle  # one reference assignment: atomic for readers
            self.load_error = None
        freeze_heap()
        log.info("model version %s in service", bundle.version)

    @property
    def registry(self) -> Registry:
        return Registry(self.settings.models_dir)

    def _active_version(self) -> str | None:
        return self.registry.active()

    def refresh_if_changed(self) -> None:
        """Swap in the registry's active version if another process changed it."""
        active = self._active_version()
        bundle = self._bundle
        if active is not None and (bundle is None or bundle.version != active):
            self.reload_model(active)

    def watch_registry(self, interval: float = 5.0) -> threading.Event:
        """Follow promotions made by other processes (``recsvc models promote``): poll the
        registry pointer every ``interval`` seconds. Set the returned event to stop."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                try:
                    self.refresh_if_changed()
                except Exception:  # keep serving the current bundle
                    log.exception("following the registry failed")

        threading.Thread(target=loop, name="registry-watch", daemon=True).start()
        return stop

    def model_version(self, version: str) -> str:
        """``version`` if it is registered.

        Raises:
            NotFound: no such version.
        """
        self.registry.path(version)
        return version

    def list_models(self) -> dict[str, Any]:
        """Every version with its metrics, the active one and the one serving."""
        registry = self.registry
        bundle = self._bundle
        return {
            "active": registry.active(),
            "serving": bundle.version if bundle is not None else None,
            "versions": [
                {
                    "version": v.version,
                    "active": v.active,
                    "created": v.created,
                    "metrics": v.metrics,
                }
                for v in registry.list()
            ],
        }

    def promote(self, version: str, *, force: bool = False) -> str:
        """Load ``version`` fully, make it active in the registry, then swap it in.

        Raises:
            NotFound: no such version.
            Conflict: it does not beat the champion (and not ``force``).
        """
        with self._admin_lock:
            registry = self.registry
            registry.path(version)
            bundle = self._load(version)
            reason = registry.promote(version, force=force)
            self._swap(bundle)
        return reason

    def rollback(self) -> str:
        """Re-activate the previous version and swap it in; returns it.

        Raises:
            Conflict: nothing to roll back to.
        """
        with self._admin_lock:
            previous = self.registry.rollback()
            self._swap(self._load(previous))
        return previous

    def evaluation_report(self, version: str) -> dict[str, Any]:
        """Metrics, metadata and plot file names of ``version``."""
        registry = self.registry
        folder = registry.path(version)
        plots_dir = folder / "plots"
        plots = sorted(p.name for p in plots_dir.glob("*.png")) if plots_dir.is_dir() else []
        return {
            "metrics": registry.metrics(version),
            "meta": registry.meta(version),
            "plots": plots,
        }

    def plot_path(self, version: str, name: str) -> Path:
        """The file of one plot of ``version``.

        Raises:
            NotFound: no such version or plot.
        """
        folder = self.registry.path(version) / "plots"
        path = folder / name
        if path.parent != folder or not path.is_file():
            raise NotFound(f"no plot {name!r} for {version}")
        return path

    # -- clients -----------------------------------------------------------------
    def client_id(self, external_id: str) -> int:
        """Translate a public client id to the internal one.

        Raises:
            NotFound: no such client.
        """
        with self.db.engine.connect() as conn:  # every client route asks: no ORM session
            cid = conn.scalar(_CLIENT_ID_OF, {"external_id": external_id})
        if cid is None:
            raise NotFound(f"no client {external_id!r}")
        return cid

    def client_external_ids(self, client_ids: list[int]) -> dict[int, str]:
        """Public ids for internal ids (unknown ids are left out)."""
        if not client_ids:
            return {}
        with self.db.session() as s:
            rows = s.execute(
                select(Client.id, Client.external_id).where(Client.id.in_(client_ids))
            ).all()
        return {int(i): e for i, e in rows}

    def list_clients(
        self, filters: ClientFilters, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[Client], int]:
        """A page of clients matching ``filters`` and the total count."""
        stmt = select(Client)
        if filters.q:
            like = f"%{filters.q}%"
            stmt = stmt.where(
                or_(
                    Client.external_id.ilike(like),
                    Client.name_zh.ilike(like),
                    Client.name_en.ilike(like),
                    Client.industry_field.ilike(like),
                    Client.core_technologies.ilike(like),
                )
            )
        if filters.kind:
            stmt = stmt.where(Client.kind == filters.kind)
        if filters.industry:
            stmt = stmt.where(Client.industry_field == filters.industry)
        if filters.account_manager:
            stmt = stmt.where(Client.account_manager == filters.account_manager)
        if filters.region:
            stmt = stmt.where(Client.region == filters.region)
        with self.db.session() as s:
            count = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = list(s.scalars(stmt.order_by(Client.id).offset(offset).limit(limit)))
        return rows, count

    def client_record(self, client_id: int) -> Client:
        """The client row (no relationships loaded)."""
        with self.db.session() as s:
            client = s.get(Client, client_id)
        if client is None:
            raise NotFound(f"no client {client_id}")
        return client

    def client_history(self, client_id: int, *, include_contacts: bool) -> dict[str, list[Any]]:
        """Commissions, orders, feedback, complaints, interactions (and contacts if allowed).

        Free-text fields that may name people (interaction notes, feedback comments,
        complaint descriptions) are left out unless ``include_contacts``.
        """
        with self.db.session() as s:
            commissions = list(
                s.scalars(
                    select(Commission)
                    .where(Commission.client_id == client_id)
                    .order_by(Commission.commissioned_on.desc())
                )
            )
            orders = s.execute(
                select(Order, Product.code, Product.name_zh, Product.name_en)
                .join(Product, Product.id == Order.product_id)
                .where(Order.client_id == client_id)
                .order_by(Order.ordered_on.desc())
            ).all()
            feedback = list(
                s.scalars(
                    select(Feedback)
                    .where(Feedback.client_id == client_id)
                    .order_by(Feedback.received_on.desc())
                )
            )
            complaints = list(
                s.scalars(
                    select(Complaint)
                    .where(Complaint.client_id == client_id)
                    .order_by(Complaint.opened_at.desc())
                )
            )
            interactions = list(
                s.scalars(
                    select(Interaction)
                    .where(Interaction.client_id == client_id)
                    .order_by(Interaction.occurred_on.desc())
                )
            )
            contacts = (
                list(s.scalars(select(Contact).where(Contact.client_id == client_id)))
                if include_contacts
                else []
            )
        return {
            "commissions": commissions,
            "orders": [
                {"order": o, "product_code": c, "product_name_zh": zh, "product_name_en": en}
                for o, c, zh, en in orders
            ],
            "feedback": feedback,
            "complaints": complaints,
            "interactions": interactions,
            "contacts": contacts,
        }

    # -- recommendations ---------------------------------------------------------------
    def recommend(
        self,
        client_id: int,
        surface: Surface,
        *,
        k: int | None = None,
        actor: str | None = None,
        record: bool = False,
    ) -> RecResult:
        """Next best services computed now, with explanations, by the model in service.

        With ``record`` each item is stored as an impression and carries its id.
        """
        bundle = self.require_bundle()
        items = self._live(bundle, client_id, surface, k or self.settings.recommend_k)
        actions = self._actions(bundle, client_id) if surface is not Surface.PORTAL else []
        if record and items:
            ids = self._record_impressions(client_id, items, surface, bundle.version, actor)
            items = [{**item, "impression_id": i} for item, i in zip(items, ids, strict=True)]
        return RecResult(bundle.version, surface, "live", items, actions)

    def portal_precomputed(self, client_id: int) -> RecResult | None:
        """The stored portal list as JSON (``encoded``), or ``None`` if the model has none
        for this client; memory only, never computes."""
        bundle = self.require_bundle()
        stored = bundle.portal_recs.get(client_id)
        if stored is None:
            return None
        count, encoded = stored
        return RecResult(
            bundle.version, Surface.PORTAL, "precomputed", [], encoded=encoded, count=count
        )

    def portal_recommendations(self, client_id: int, *, raw: bool = False) -> RecResult:
        """The portal list: precomputed at training time, live for clients it missed.

        Args:
            raw: for a precomputed list, return the stored JSON (``encoded``) instead of
                decoded ``items`` (the API's fast path).
        """
        bundle = self.require_bundle()
        stored = bundle.portal_recs.get(client_id)
        if stored is not None:
            count, encoded = stored
            if raw:
                return RecResult(
                    bundle.version, Surface.PORTAL, "precomputed", [], encoded=encoded, count=count
                )
            return RecResult(bundle.version, Surface.PORTAL, "precomputed", json.loads(encoded))
        live = self._live(bundle, client_id, Surface.PORTAL, self.settings.recommend_k)
        return RecResult(bundle.version, Surface.PORTAL, "live", live)

    def _live(
        self, bundle: ServingBundle, client_id: int, surface: Surface, k: int
    ) -> list[dict[str, Any]]:
        recs = bundle.recommender.recommend(client_id, surface, k)  # thread-safe, no lock
        return [offer.model_dump() for offer in recs]

    def _actions(self, bundle: ServingBundle, client_id: int) -> list[dict[str, Any]]:
        actions = bundle.recommender.actions(client_id)
        return [
            {"code": f"action:{a.code}", "name_zh": a.name_zh, "name_en": a.name_en}
            for a in actions
        ]

    def client_score(self, client_id: int) -> dict[str, Any] | None:
        """Value probability with reasons, segment and its actions, CLV and relationship
        stage from the model in service; ``None`` until a model is loaded.

        Scores were computed for every client when the bundle loaded; a client imported
        since is scored now from a fresh snapshot.
        """
        bundle = self._bundle
        if bundle is None or bundle.value is None:
            return None
        value = bundle.value
        features, scores = bundle.features, bundle.scores
        if features is not None and scores is not None and client_id in features.index:
            row = features.loc[[client_id]]
            scored = scores.loc[client_id]
            reasons = value.model.explain(row, k=3)
            segment = str(scored["segment"])
            probability, stage = float(scored["probability"]), str(scored["stage"])
            clv = {c: scored.get(c) for c in CLV_COLUMNS}
        else:
            try:
                cs = value.explain_client(load_frames(self.db), client_id)
            except NotFound:
                return None
            reasons, segment, probability, stage = cs.reasons, cs.segment, cs.probability, cs.stage
            clv = dict(cs.clv)
        return {
            "value_probability": probability,
            "reasons": [
                {
                    "feature": r.feature,
                    "contribution": float(r.contribution),
                    "text_zh": r.text_zh,
                    "text_en": r.text_en,
                }
                for r in reasons
            ],
            "segment": segment,
            "actions": [
                {"code": a.item_code, "name_zh": a.name_zh, "name_en": a.name_en}
                for a in STRATEGIES.get(segment, [])
            ],
            "clv": _clv(clv),
            "relationship_stage": stage,
            "model_version": bundle.version,
        }

    # -- semantic ----------------------------------------------------------------------
    @property
    def semantic(self) -> SemanticLayer:
        """The semantic layer, opened on first use.

        Raises:
            NotReady: no index has been built (``recsvc index build``).
        """
        layer = self._semantic
        if layer is None:
            with self._admin_lock:
                layer = self._semantic
                if layer is None:
                    # mapped: every worker of a server shares the stored vectors
                    layer = SemanticLayer.load(self.settings, self._embedder, mmap=True)
                    self._semantic = layer
        return layer

    def semantic_or_none(self) -> SemanticLayer | None:
        """The semantic layer, or ``None`` when no index has been built."""
        try:
            return self.semantic
        except NotReady as exc:
            log.info("serving without the semantic layer: %s", exc.detail)
            return None

    def similar_clients(self, client_id: int, *, k: int = 10) -> list[dict[str, Any]]:
        """Clients most like ``client_id`` by research direction, best first."""
        ids, scores = self.semantic.similar_clients(client_id, k=k)
        wanted = [int(i) for i in ids]
        with self.db.session() as s:
            rows = {c.id: c for c in s.scalars(select(Client).where(Client.id.in_(wanted)))}
        return [
            {
                "external_id": rows[i].external_id,
                "name_zh": rows[i].name_zh,
                "name_en": rows[i].name_en,
                "kind": rows[i].kind,
                "industry_field": rows[i].industry_field,
                "score": float(sc),
            }
            for i, sc in zip(wanted, scores, strict=True)
            if i in rows
        ]

    def search(self, query: str, *, kind: str = "commissions", k: int = 10) -> list[dict[str, Any]]:
        """Hybrid semantic search in librarian scope; hits carry public ids only."""
        return [_public_hit(h) for h in self.semantic.search(query, kind, k=k)]

    def worklist(self, filters: WorklistFilters) -> tuple[str, list[dict[str, Any]]]:
        """Clients to contact now with their best offer and reason, best first.

        Deterministic for one bundle (it ranks on the bundle's snapshot), so it is
        memoised per bundle and filter set; a shorter page of a list already computed
        is a slice of it.
        """
        bundle = self.require_bundle()
        return bundle.version, [dict(r) for r in _worklist_rows(bundle, filters)]

    def export_worklist(self, rows: list[dict[str, Any]], fmt: str) -> bytes:
        """The worklist rows as CSV (UTF-8 with BOM, opens in Excel) or ``.xlsx`` bytes.

        Columns are the public ones (no internal ids), headed in Chinese and English.
        """
        if fmt not in ("csv", "xlsx"):
            raise InvalidInput(f"export to csv or xlsx, not {fmt!r}")
        df = pd.DataFrame(rows, columns=list(WORKLIST_COLUMNS))
        df.columns = [f"{zh} {en}" for en, zh in WORKLIST_COLUMNS.items()]
        buf = io.BytesIO()
        if fmt == "csv":
            buf.write(df.to_csv(index=False).encode("utf-8-sig"))
        else:
            with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
                df.to_excel(xw, sheet_name="worklist", index=False)
                sheet = xw.sheets["worklist"]
                sheet.freeze_panes(1, 0)
                sheet.set_column(0, len(df.columns) - 1, 18)
        return buf.getvalue()

    def import_upload(
        self,
        filename: str,
        payload: bytes,
        *,
        entity: str | None = None,
        dry_run: bool = False,
        max_bytes: int | None = None,
    ) -> list[dict[str, Any]]:
        """Import an uploaded file with the same validation as ``recsvc import``.

        The upload is written under its own (sanitised) name in a private temporary
        folder, so problems name the file the analyst sent.

        Raises:
            InvalidInput: empty, too large, or an unsupported file type.
            ImportRejected: the file failed validation; nothing was written.
        """
        name = _safe_filename(filename)
        suffix = Path(name).suffix.lower()
        if suffix not in _IMPORT_SUFFIXES:
            raise InvalidInput(
                f"{name}: unsupported file type",
                problems=[
                    Problem(
                        f"use one of {', '.join(sorted(_IMPORT_SUFFIXES))}", field="file", file=name
                    )
                ],
            )
        if not payload:
            raise InvalidInput(
                f"{name}: the file is empty",
                problems=[Problem("empty file", field="file", file=name)],
            )
        if max_bytes is not None and len(payload) > max_bytes:
            raise InvalidInput(
                f"{name}: larger than {max_bytes} bytes",
                problems=[Problem("file too large", field="file", file=name)],
            )
        with tempfile.TemporaryDirectory(prefix="recsvc-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(payload)
            report = import_file(self.db, path, entity, dry_run=dry_run)
        if not dry_run and (report.inserted or report.updated):
            self.data_changed()
        return [
            {
                "entity": report.entity,
                "source": name,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "dry_run": report.dry_run,
            }
        ]

    # -- recommendation events -------------------------------------------------------------
    def _record_impressions(
        self,
        client_id: int,
        items: list[dict[str, Any]],
        surface: Surface,
        version: str | None,
        actor: str | None,
    ) -> list[int]:
        shown = [
            Shown(
                item_code=item["code"], rank=int(item.get("rank") or i + 1), score=item.get("score")
            )
            for i, item in enumerate(items)
        ]
        return feedback.record_impressions(
            self.db, client_id, shown, surface=surface, model_version=version, actor=actor
        )

    def record_outcome(
        self,
        impression_id: int,
        outcome: str,
        *,
        reason: DeclineReason | str | None = None,
        actor: str | None = None,
        client_id: int | None = None,
    ) -> dict[str, Any]:
        """Record accepted / declined (with a reason) / purchased for an impression.

        Args:
            client_id: when given (portal), the impression must belong to this client;
                another client's impression is reported as not found.

        Raises:
            NotFound: no such impression (or not this client's).
            Conflict: the impression already has this outcome.
            InvalidInput: a reason on anything but a decline.
        """
        with self.db.session() as s:
            imp = s.get(RecommendationEvent, impression_id)
            if (
                imp is None
                or imp.event != EventType.IMPRESSION
                or (client_id is not None and imp.client_id != client_id)
            ):
                raise NotFound(f"no impression {impression_id}")
            same = s.scalar(
                select(RecommendationEvent.id).where(
                    RecommendationEvent.impression_id == impression_id,
                    RecommendationEvent.event == outcome,
                )
            )
        if same is not None:
            raise Conflict(f"impression {impression_id} already has outcome {outcome!r}")
        event_id = feedback.record_outcome(
            self.db, outcome, impression_id=impression_id, reason=reason, actor=actor
        )
        with self.db.session() as s:
            event = s.get(RecommendationEvent, event_id)
            assert event is not None
            return _event_dict(event)

    def record_portal_events(
        self, client_id: int, events: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Impressions (need ``item_code``) and outcomes (need ``impression_id``) from the
        portal of ``client_id``; outcomes may only answer this client's impressions."""
        bundle = self._bundle
        version = bundle.version if bundle is not None else None
        out: list[dict[str, Any]] = []
        codes = self._item_codes()
        for i, e in enumerate(events):
            if e["event"] == EventType.IMPRESSION:
                code = e.get("item_code")
                if not code or (code not in codes and not code.startswith("action:")):
                    raise InvalidInput(
                        f"events[{i}]: unknown item_code {code!r}",
                        problems=[Problem("unknown item code", field=f"events.{i}.item_code")],
                    )
                item = {"code": code, "rank": e.get("rank")}
                (eid,) = self._record_impressions(
                    client_id, [item], Surface.PORTAL, version, "portal"
                )
                out.append(
                    {
                        "id": eid,
                        "event": EventType.IMPRESSION,
                        "item_code": code,
                        "impression_id": None,
                        "surface": Surface.PORTAL,
                        "model_version": version,
                    }
                )
            else:
                if e.get("impression_id") is None:
                    raise InvalidInput(
                        f"events[{i}]: an outcome needs impression_id",
                        problems=[
                            Problem("required for an outcome", field=f"events.{i}.impression_id")
                        ],
                    )
                out.append(
                    self.record_outcome(
                        e["impression_id"],
                        e["event"],
                        reason=e.get("reason"),
                        actor="portal",
                        client_id=client_id,
                    )
                )
        return out

    def _item_codes(self) -> set[str]:
        with self.db.session() as s:
            return set(s.scalars(select(Product.code)))

    # -- jobs ----------------------------------------------------------------------
    def start_training(self, requested_by: str) -> TrainingJob:
        """Record a queued training job and run it in a subprocess; returns the job."""
        job_id = uuid.uuid4().hex
        with self.db.session() as s:
            job = TrainingJob(
                id=job_id,
                status=JobStatus.QUEUED,
                progress=0.0,
                requested_by=requested_by,
                message="queued",
            )
            s.add(job)
        cmd = [*self._job_argv, job_id]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self._job_env()
        )
        self._jobs[job_id] = proc
        threading.Thread(
            target=self._watch_job, args=(job_id, proc), name=f"train-{job_id[:8]}", daemon=True
        ).start()
        return self.job(job_id)

    def _job_env(self) -> dict[str, str]:
        import os

        env = dict(os.environ)
        env.update(
            {
                "RECSVC_DATABASE_URL": self.settings.database_url,
                "RECSVC_DATA_DIR": str(self.settings.data_dir),
                "RECSVC_MODELS_DIR": str(self.settings.models_dir),
                "RECSVC_INDEX_DIR": str(self.settings.index_dir),
                "RECSVC_CACHE_DIR": str(self.settings.cache_dir),
                "RECSVC_REPORTS_DIR": str(self.settings.reports_dir),
                "RECSVC_EMBEDDING_MODEL": self.settings.embedding_model,
                "RECSVC_ENVIRONMENT": self.settings.environment,
            }
        )
        if self.settings.as_of_date is not None:
            env["RECSVC_AS_OF_DATE"] = self.settings.as_of_date.isoformat()
        return env

    def _watch_job(self, job_id: str, proc: subprocess.Popen[bytes]) -> None:
        _, stderr = proc.communicate()
        self._jobs.pop(job_id, None)
        with self.db.session() as s:
            job = s.get(TrainingJob, job_id)
            if job is None:
                return
            if job.status not in (JobStatus.FAILED, JobStatus.SUCCEEDED):
                tail = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-5:]
                job.status = JobStatus.FAILED
                job.message = " | ".join(tail) or f"the job exited ({proc.returncode}) unfinished"
                job.finished_at = dt.datetime.now(dt.UTC)
            succeeded = job.status == JobStatus.SUCCEEDED
        if succeeded:
            self.reload_model()

    def job(self, job_id: str) -> TrainingJob:
        """A training job by id.

        Raises:
            NotFound: no such job.
        """
        with self.db.session() as s:
            job = s.get(TrainingJob, job_id)
        if job is None:
            raise NotFound(f"no training job {job_id!r}")
        return job

    # -- readiness -------------------------------------------------------------------
    def db_ok(self) -> bool:
        """Whether the store answers a trivial query."""
        try:
            with self.db.session() as s:
                s.scalar(select(1))
        except Exception:  # any driver error means not ready
            log.exception("database check failed")
            return False
        return True


def _event_dict(event: RecommendationEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "event": EventType(event.event),
        "item_code": event.item_code,
        "impression_id": event.impression_id,
        "surface": Surface(event.surface),
        "model_version": event.model_version,
    }


def _safe_filename(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "upload"
    return name[:120]


def _public_hit(hit: SearchHit) -> dict[str, Any]:
    """A search hit with public ids: external ids for clients and commissions."""
    meta = {k: v for k, v in hit.meta.items() if k in _PUBLIC_HIT_META}
    public_id = meta.get("external_id") if hit.kind in ("clients", "commissions") else hit.id
    return {
        "kind": hit.kind,
        "id": str(public_id if public_id is not None else hit.id),
        "score": float(hit.score),
        "channels": {
            ch: {k: float(v) for k, v in vals.items()} for ch, vals in hit.channels.items()
        },
        "title": hit.title,
        "summary": hit.summary,
        "meta": {k: (str(v) if v is not None else None) for k, v in meta.items()},
    }


def _clv(values: Mapping[str, Any]) -> dict[str, float] | None:
    """CLV numbers, or ``None`` when the CLV model gave none for this client."""
    out = {}
    for key in ("expected_commissions_12m", "expected_value_12m", "p_alive"):
        v = values.get(key)
        if v is None or pd.isna(v):
            return None
        out[key] = float(v)
    return out


def _worklist_rows(bundle: ServingBundle, filters: WorklistFilters) -> list[dict[str, Any]]:
    key = ("worklist", replace(filters, limit=0))
    done: tuple[int, list[dict[str, Any]]] | None = bundle.cache.get(key)
    if done is not None and (filters.limit <= done[0] or len(done[1]) < done[0]):
        return done[1][: filters.limit]
    with bundle.lock:
        found = recommend_worklist(
            bundle.recommender,
            segment=filters.segment,
            staff=filters.account_manager,
            product=filters.product,
            kind=filters.kind,
            limit=filters.limit,
        )
    rows = [_worklist_row(r) for r in found]
    if len(bundle.cache) > 256:
        bundle.cache.clear()
    bundle.cache[key] = (filters.limit, rows)
    return rows


def _worklist_row(row: WorklistRow) -> dict[str, Any]:
    """A worklist row with public ids only."""
    return {
        "rank": row.rank,
        "client_external_id": row.external_id,
        "client_name": row.name_zh or row.name_en or None,
        "segment": row.segment or None,
        "industry_field": row.industry_field or None,
        "account_manager": row.account_manager or None,
        "score": float(row.score),
        "expected_value": float(row.expected_value),
        "product_code": row.product_code,
        "product_name_zh": row.product_zh,
        "product_name_en": row.product_en,
        "reason_zh": row.reason_zh,
        "reason_en": row.reason_en,
        "action_zh": row.action_zh or None,
        "action_en": row.action_en or None,
    }


def _load_bundle(services: Services, version: str) -> ServingBundle:
    """Open ``version`` for serving and, unless told not to, rank the default worklist
    before anyone waits for it."""
    bundle = open_bundle(
        services.settings,
        services.db,
        services.semantic_or_none(),
        version,
        services.registry.path(version),
    )
    if services.warm_worklist:
        _worklist_rows(bundle, WorklistFilters())
    return bundle
