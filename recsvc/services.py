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
import logging
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from recsvc.auth import Principal, verify_key
from recsvc.config import Settings
from recsvc.errors import Conflict, InvalidInput, NotFound, NotReady, Problem
from recsvc.registry import Registry
from recsvc.store.db import Database
from recsvc.store.enums import DeclineReason, EventType, JobStatus, Surface
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

__all__ = ["ClientFilters", "ModelBundle", "RecResult", "Services", "WorklistFilters"]

log = logging.getLogger(__name__)

_KEY_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class ModelBundle:
    """Everything one model version serves with, loaded completely before use."""

    version: str
    path: Path
    recommender: Any
    portal_recs: Mapping[int, list[dict[str, Any]]] = field(default_factory=dict)
    value_model: Any = None
    clv_model: Any = None
    metrics: dict[str, Any] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class RecResult:
    """Recommendations as served: which model, which surface, precomputed or live."""

    version: str
    surface: Surface
    served_from: str
    items: list[dict[str, Any]]


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

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._bundle: ModelBundle | None = None
        self._swap_lock = threading.Lock()
        self._admin_lock = threading.RLock()
        self._key_cache: dict[str, tuple[float, Principal]] = {}
        self._jobs: dict[str, subprocess.Popen[bytes]] = {}
        self._bundle_loader: Callable[[Services, str], ModelBundle] | None = None

    @classmethod
    def build(cls, settings: Settings, *, load_model: bool = True) -> Services:
        """Open (and migrate) the store and load the active model version if any."""
        db = Database.from_settings(settings)
        db.upgrade()
        services = cls(settings, db)
        if load_model:
            services.reload_model()
        return services

    def close(self) -> None:
        """Release the store's connections."""
        self.db.dispose()

    # -- auth ------------------------------------------------------------------
    def authenticate(self, secret: str | None) -> Principal:
        """The principal for a key, cached for a few seconds (revocation lags by that)."""
        now = time.monotonic()
        if secret:
            hit = self._key_cache.get(secret)
            if hit is not None and now - hit[0] < _KEY_CACHE_SECONDS:
                return hit[1]
        principal = verify_key(self.db, secret)
        if len(self._key_cache) > 10_000:
            self._key_cache.clear()
        self._key_cache[secret or ""] = (now, principal)
        return principal

    # -- the model bundle ----------------------------------------------------------
    @property
    def bundle(self) -> ModelBundle | None:
        """The bundle in service now (read it once per request)."""
        return self._bundle

    def require_bundle(self) -> ModelBundle:
        """The bundle in service, or :class:`NotReady` when nothing is trained yet."""
        bundle = self._bundle
        if bundle is None:
            raise NotReady("no model is loaded yet: train one (recsvc train) and promote it")
        return bundle

    def reload_model(self, version: str | None = None) -> ModelBundle | None:
        """Load ``version`` (default: the registry's active one) and swap it in atomically."""
        if self._bundle_loader is None:
            return self._bundle
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

    def _load(self, version: str) -> ModelBundle:
        """Load a bundle completely (nobody sees it before it is whole)."""
        loader = self._bundle_loader
        if loader is None:
            raise NotReady("the recommender is not available in this build")
        return loader(self, version)

    def _swap(self, bundle: ModelBundle) -> None:
        with self._swap_lock:
            self._bundle = bundle  # one reference assignment: atomic for readers
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
            with self._admin_lock:
                self.reload_model(active)

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
        with self.db.session() as s:
            cid = s.scalar(select(Client.id).where(Client.external_id == external_id))
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
        if record and items:
            ids = self._record_impressions(client_id, items, surface, bundle.version, actor)
            items = [{**item, "impression_id": i} for item, i in zip(items, ids, strict=True)]
        return RecResult(bundle.version, surface, "live", items)

    def portal_recommendations(self, client_id: int) -> RecResult:
        """The portal list: precomputed at training time, live for clients it missed."""
        bundle = self.require_bundle()
        items = bundle.portal_recs.get(client_id)
        if items is not None:
            return RecResult(bundle.version, Surface.PORTAL, "precomputed", items)
        live = self._live(bundle, client_id, Surface.PORTAL, self.settings.recommend_k)
        return RecResult(bundle.version, Surface.PORTAL, "live", live)

    def _live(
        self, bundle: ModelBundle, client_id: int, surface: Surface, k: int
    ) -> list[dict[str, Any]]:
        raise NotReady("the recommender is not available in this build")

    def client_score(self, client_id: int) -> dict[str, Any] | None:
        """Value score with reasons, segment and actions, CLV and relationship stage."""
        return None

    def similar_clients(self, client_id: int, *, k: int = 10) -> list[dict[str, Any]]:
        """Clients most like ``client_id`` (semantic layer)."""
        raise NotReady("the semantic index is not available in this build")

    def search(self, query: str, *, kind: str = "commissions", k: int = 10) -> list[dict[str, Any]]:
        """Hybrid semantic search (librarian scope)."""
        raise NotReady("the semantic index is not available in this build")

    def worklist(self, filters: WorklistFilters) -> tuple[str, list[dict[str, Any]]]:
        """The ranked worklist of the model in service."""
        raise NotReady("the worklist is not available in this build")

    def export_worklist(self, rows: list[dict[str, Any]], fmt: str) -> bytes:
        """The worklist as CSV or Excel bytes."""
        raise NotReady("the worklist is not available in this build")

    def import_upload(
        self,
        filename: str,
        payload: bytes,
        *,
        entity: str | None = None,
        dry_run: bool = False,
        max_bytes: int | None = None,
    ) -> list[dict[str, Any]]:
        """Import an uploaded file with the same validation as ``recsvc import``."""
        raise NotReady("the importer is not available in this build")

    # -- recommendation events -------------------------------------------------------------
    def _record_impressions(
        self,
        client_id: int,
        items: list[dict[str, Any]],
        surface: Surface,
        version: str | None,
        actor: str | None,
    ) -> list[int]:
        with self.db.session() as s:
            events = [
                RecommendationEvent(
                    event=EventType.IMPRESSION,
                    client_id=client_id,
                    item_code=item["code"],
                    surface=surface,
                    model_version=version,
                    rank=item.get("rank"),
                    score=item.get("score"),
                    actor=actor,
                )
                for item in items
            ]
            s.add_all(events)
            s.flush()
            return [e.id for e in events]

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
            client_id: when given (portal), the impression must belong to this client.

        Raises:
            NotFound: no such impression (or not this client's).
            Conflict: the impression already has an outcome.
            InvalidInput: a reason on anything but a decline.
        """
        event_type = EventType(outcome)
        if event_type is EventType.IMPRESSION:
            raise InvalidInput("an outcome cannot be an impression")
        if reason is not None and event_type is not EventType.DECLINED:
            raise InvalidInput("only a declined outcome takes a reason")
        with self.db.session() as s:
            imp = s.get(RecommendationEvent, impression_id)
            if (
                imp is None
                or imp.event != EventType.IMPRESSION
                or (client_id is not None and imp.client_id != client_id)
            ):
                raise NotFound(f"no impression {impression_id}")
            taken = s.scalar(
                select(RecommendationEvent.id).where(
                    RecommendationEvent.impression_id == impression_id
                )
            )
            if taken is not None:
                raise Conflict(f"impression {impression_id} already has an outcome")
            event = RecommendationEvent(
                event=event_type,
                client_id=imp.client_id,
                item_code=imp.item_code,
                impression_id=imp.id,
                surface=imp.surface,
                model_version=imp.model_version,
                reason=DeclineReason(reason) if reason else None,
                actor=actor,
            )
            s.add(event)
            s.flush()
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
        cmd = [sys.executable, "-c", "from recsvc.cli import main; main()", "train-job", job_id]
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
            if proc.returncode != 0 and job.status != JobStatus.FAILED:
                tail = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-5:]
                job.status = JobStatus.FAILED
                job.message = " | ".join(tail) or f"exit code {proc.returncode}"
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
