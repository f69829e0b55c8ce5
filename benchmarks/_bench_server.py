"""The app ``bench_api.py`` serves: the real ``create_app`` over its prepared store, with
the FakeEmbedder that store's index was built with. Settings come from ``RECSVC_*``
variables, so each uvicorn worker process builds the same app (``factory=True``)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from api.app import create_app
from recsvc.config import Settings
from recsvc.semantic import FakeEmbedder
from recsvc.usecases import open_runtime


def app() -> FastAPI:
    settings = Settings()
    return create_app(settings, open_runtime(settings, embedder=FakeEmbedder()))


def trivial() -> FastAPI:
    """The trivial JSON endpoint every number is compared with (same server, workers)."""
    pid = os.getpid()
    bare = FastAPI()

    @bare.get("/ping")
    def ping() -> dict[str, object]:
        return {"status": "ok", "items": [1, 2, 3], "worker": pid}

    return bare
