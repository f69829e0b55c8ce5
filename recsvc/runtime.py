"""``Runtime``: what one process serves with — settings, the store, the semantic layer
and the model version in service.

The version in service is a :class:`~recsvc.serving.ServingBundle` behind ONE
reference, replaced atomically once a new bundle is fully opened, so a promote or
rollback never lets a request see a half-loaded model: a request reads
:attr:`Runtime.bundle` once and uses that object to the end. The last few bundles
stay open, so swapping back (rollback, alternating promotes) is instant.

The runtime knows nothing of use cases (:mod:`recsvc.usecases` builds on it); the API,
the console and the CLI each hold one and pass it to the use-case functions.

Example:
    >>> rt = Runtime.open(Settings(database_url="sqlite://"))
    >>> rt.bundle is None   # nothing trained yet
    True
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from recsvc.auth import KeyCache
from recsvc.config import Settings
from recsvc.errors import NotReady, RecsvcError
from recsvc.registry import Registry
from recsvc.store import queries
from recsvc.store.db import Database

if TYPE_CHECKING:
    # Imported where first used: the semantic layer pulls in FAISS and the serving
    # bundle LightGBM and scikit-learn, which a command that only reads the store
    # (``recsvc stats``) must not pay for.
    from recsvc.semantic import Embedder, SemanticLayer
    from recsvc.serving import ServingBundle, SnapshotHolder

__all__ = ["TRAIN_JOB_ARGV", "Runtime"]

log = logging.getLogger(__name__)

#: How the server runs a training job: the hidden CLI command in a fresh interpreter,
#: so :mod:`training` is never imported by the serving process.
TRAIN_JOB_ARGV = (sys.executable, "-c", "from recsvc.cli import main; main()", "train-job")
_KEEP_BUNDLES = 2

#: Called with each bundle after it is opened and before it serves (e.g. to rank the
#: default worklist so the first request for it is fast).
OnLoad = Callable[["ServingBundle"], None]


class Runtime:
    """One process's settings, store, semantic layer and model version in service.

    Build it with :meth:`open`; close it with :meth:`close`.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        embedder: Embedder | None = None,
        job_argv: Sequence[str] | None = None,
        on_load: OnLoad | None = None,
        serves: bool = True,
    ) -> None:
        self.settings = settings
        self.serves = serves
        """Whether this process serves a model version: a runtime that does not (a CLI
        command) only moves the registry pointer on promote and rollback; the servers
        follow it (:meth:`watch_registry`)."""
        self.db = db
        self.keys = KeyCache(db)
        """API keys verified in the last few seconds (see :class:`~recsvc.auth.KeyCache`)."""
        self.job_argv: list[str] = list(job_argv or TRAIN_JOB_ARGV)
        """The command a training job runs (its id is appended)."""
        self.load_error: str | None = None
        """Why the active version failed to load at start, if it did."""
        self._embedder = embedder
        self._on_load = on_load
        self._bundle: ServingBundle | None = None
        self._recent: dict[str, ServingBundle] = {}
        self._snapshot_holder: SnapshotHolder | None = None
        self._semantic: SemanticLayer | None = None
        self._swap_lock = threading.Lock()
        self._admin_lock = threading.RLock()
        self._erasures: int | None = None
        """The latest erasure this process has applied (see :meth:`client_erased`)."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        load_model: bool = True,
        job_argv: Sequence[str] | None = None,
        on_load: OnLoad | None = None,
    ) -> Runtime:
        """Open (and migrate) the store and load the registry's active version if any.

        A version that fails to load leaves the runtime serving without a model;
        :attr:`load_error` says why (readiness and 503s report it).

        Args:
            settings: the configuration.
            embedder: the text embedder for queries (default: the configured model,
                loaded on first use); tests pass a ``FakeEmbedder``.
            load_model: load the registry's active version now, and serve the versions
                promoted or rolled back to later (see :attr:`serves`).
            job_argv: the command a training job runs; tests use a stand-in.
            on_load: called with each bundle before it serves.
        """
        db = Database.from_settings(settings)
        db.upgrade()
        runtime = cls(
            settings,
            db,
            embedder=embedder,
            job_argv=job_argv,
            on_load=on_load,
            serves=load_model,
        )
        runtime._erasures = queries.latest_erasure(db)
        if load_model:
            try:
                runtime.reload()
            except Exception as exc:  # serve what works; /readyz and 503s say why
                runtime.load_error = (
                    exc.detail if isinstance(exc, RecsvcError) else f"{type(exc).__name__}: {exc}"
                )
                log.exception("no model in service: %s", runtime.load_error)
        return runtime

    def close(self) -> None:
        """Release the store's connections."""
        self.db.dispose()

    # -- the semantic layer ----------------------------------------------------------
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
                    from recsvc.semantic import SemanticLayer, set_search_threads

                    set_search_threads(self.settings.search_threads)
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

    @property
    def _snapshot(self) -> SnapshotHolder:
        """The store's snapshot, shared by the versions this runtime opens."""
        holder = self._snapshot_holder
        if holder is None:
            from recsvc.serving import SnapshotHolder

            with self._admin_lock:
                holder = self._snapshot_holder
                if holder is None:
                    holder = self._snapshot_holder = SnapshotHolder(
                        self.db, self.settings.serving_dir
                    )
        return holder

    def _forget_snapshot(self) -> None:
        if self._snapshot_holder is not None:
            self._snapshot_holder.forget()

    # -- the version in service ------------------------------------------------------
    @property
    def registry(self) -> Registry:
        """The model registry of these settings."""
        return Registry(self.settings.models_dir)

    @property
    def bundle(self) -> ServingBundle | None:
        """The bundle in service now (read it once per request)."""
        return self._bundle

    def require_bundle(self) -> ServingBundle:
        """The bundle in service.

        Raises:
            NotReady: nothing is trained yet, or the active version failed to load.
        """
        bundle = self._bundle
        if bundle is None:
            if self.load_error:
                raise NotReady(f"the active model could not be loaded: {self.load_error}")
            raise NotReady("no model is loaded yet: train one (recsvc train) and promote it")
        return bundle

    def open_version(self, version: str) -> ServingBundle:
        """Open ``version`` for serving (not swapped in, not kept)."""
        from recsvc.semantic import set_search_threads
        from recsvc.serving import open_bundle

        set_search_threads(self.settings.search_threads)
        bundle = open_bundle(
            self.settings,
            self.db,
            self.semantic_or_none(),
            version,
            self.registry.path(version),
            frames=self._snapshot.current(),
        )
        if self._on_load is not None:
            self._on_load(bundle)
        return bundle

    def reload(self, version: str | None = None) -> ServingBundle | None:
        """Serve ``version`` (default: the registry's active one), loading it if needed."""
        with self._admin_lock:
            if version is None:
                version = self.registry.active()
                if version is None:
                    return self._bundle
            current = self._bundle
            if current is not None and current.version == version:
                return current
            bundle = self._kept(version)
            self.swap(bundle)
            return bundle

    def promote(self, version: str, *, force: bool = False) -> str:
        """Open ``version`` fully, make it active in the registry, then serve it.

        Returns:
            Why the registry accepted it.

        Raises:
            NotFound: no such version.
            Conflict: it does not beat the champion (and not ``force``).
        """
        with self._admin_lock:
            registry = self.registry
            registry.path(version)
            if not self.serves:
                return registry.promote(version, force=force)
            bundle = self._kept(version)
            reason = registry.promote(version, force=force)
            self.swap(bundle)
        return reason

    def rollback(self) -> str:
        """Re-activate the previous version and serve it; returns it.

        Raises:
            Conflict: nothing to roll back to.
        """
        with self._admin_lock:
            previous = self.registry.rollback()
            if self.serves:
                self.swap(self._kept(previous))
        return previous

    def value_model_changed(self, version: str) -> None:
        """The registry changed which value model ``version`` serves: forget it opened,
        and reopen and serve it now if it is the version in service."""
        with self._admin_lock:
            self._recent.pop(version, None)
            current = self._bundle
            if self.serves and current is not None and current.version == version:
                bundle = self._kept(version)
                self.swap(bundle)

    def swap(self, bundle: ServingBundle) -> None:
        """Put ``bundle`` in service (one reference assignment: atomic for readers)."""
        with self._swap_lock:
            self._bundle = bundle
            self.load_error = None
        from recsvc.serving import freeze_heap

        freeze_heap()
        log.info("model version %s in service", bundle.version)

    def _kept(self, version: str) -> ServingBundle:
        """``version`` opened whole, from the recently served bundles if it is there."""
        bundle = self._recent.get(version)
        if bundle is None:
            bundle = self.open_version(version)
            self._recent[version] = bundle
            while len(self._recent) > _KEEP_BUNDLES:
                self._recent.pop(next(iter(self._recent)))
        return bundle

    def data_changed(self) -> None:
        """The store changed (an import): reopen the version in service on fresh data, in
        the background; requests keep using the current bundle until the swap."""
        self._recent.clear()
        self._forget_snapshot()
        if self._bundle is None:
            return

        def reopen() -> None:
            with self._admin_lock:
                current = self._bundle
                if current is None:
                    return
                try:
                    self.swap(self.open_version(current.version))
                except Exception:  # the old bundle keeps serving
                    log.exception("reloading %s after an import failed", current.version)

        threading.Thread(target=reopen, name="reload-after-import", daemon=True).start()

    def client_erased(self, *, semantic_saved: bool = False) -> None:
        """A client was erased: forget everything this process holds of it, now.

        The cached keys go (the client's portal tokens were deleted), the semantic
        layer is read again from its folder unless this process erased from its own
        layer (``semantic_saved``), and the version in service is reopened on the
        store's new snapshot and swapped in before this returns, so no request after
        it sees the client.
        """
        with self._admin_lock:
            self._erasures = queries.latest_erasure(self.db)
            self.keys.forget()
            if not semantic_saved:
                self._semantic = None
            self._recent.clear()
            self._forget_snapshot()
            current = self._bundle
            if current is not None:
                self.swap(self.open_version(current.version))

    def refresh_if_changed(self) -> None:
        """Serve the registry's active version if another process changed it, and drop
        a client another process erased (:meth:`client_erased`)."""
        latest = queries.latest_erasure(self.db)
        if self._erasures is None:
            self._erasures = latest
        elif latest != self._erasures:
            self.client_erased()
        active = self.registry.active()
        bundle = self._bundle
        if active is not None and (bundle is None or bundle.version != active):
            self.reload(active)
        elif (
            bundle is not None
            and bundle.value is not None
            and bundle.value.value_model != self.registry.value_model(bundle.version)
        ):
            self.value_model_changed(bundle.version)  # chosen in another process

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
