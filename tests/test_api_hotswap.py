"""Hot model swap under load: promote and roll back while portal and librarian
recommendation requests flow; no request fails, every response names one whole model.
The second version is a registered copy of the trained one (``second_version``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recsvc.semantic.artifact import LazyIndexes
from tests.fixtures_api import ApiEnv, demo_env, open_demo, second_version

SWAPS = 8
PORTAL_THREADS = 3
LIBRARIAN_THREADS = 2


@pytest.fixture
def swap_env(api_demo_bundle: Path, tmp_path: Path) -> Iterator[ApiEnv]:
    settings, runtime = open_demo(api_demo_bundle, tmp_path)
    second_version(settings)  # runtime loaded v1 already; v2 is there to promote
    yield from demo_env(settings, runtime)


def test_hot_swap_under_load(swap_env: ApiEnv) -> None:
    env = swap_env
    v1 = env.runtime.bundle.version  # type: ignore[union-attr]
    v2 = f"{v1}-2"
    stop = threading.Event()
    seen: list[tuple[str, int, str | None, str | None]] = []
    lock = threading.Lock()
    urls = {
        "portal": "/api/v1/me/recommendations",
        "librarian": f"/api/v1/clients/{env.clients['B']}/recommendations?k=3",
    }

    def hammer(who: str) -> None:
        while not stop.is_set():
            resp = env.get(urls[who], who)
            body_version = resp.json().get("model_version") if resp.status_code == 200 else None
            with lock:
                seen.append(
                    (who, resp.status_code, resp.headers.get("x-model-version"), body_version)
                )

    threads = [threading.Thread(target=hammer, args=("portal",)) for _ in range(PORTAL_THREADS)]
    threads += [
        threading.Thread(target=hammer, args=("librarian",)) for _ in range(LIBRARIAN_THREADS)
    ]
    for t in threads:
        t.start()
    try:
        for i in range(SWAPS):
            time.sleep(0.3)
            if i % 2 == 0:
                r = env.post(f"/api/v1/models/{v2}/promote?force=true", "admin")
                assert r.status_code == 200, r.text
                assert r.json()["serving"] == v2
            else:
                r = env.post("/api/v1/models/rollback", "analyst")
                assert r.status_code == 200, r.text
                assert r.json()["serving"] == v1 == r.json()["active"]
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    failures = [s for s in seen if s[1] != 200]
    assert not failures, failures[:5]
    # one version per answer; the portal's body names none (it speaks to the client)
    assert all(header == body for who, _, header, body in seen if who == "librarian")
    assert all(body is None for who, _, _, body in seen if who == "portal")
    versions = {header for _, _, header, _ in seen}
    assert versions <= {v1, v2}
    assert versions == {v1, v2}, "both models should have served during the run"
    by_who = {who for who, *_ in seen}
    assert by_who == {"portal", "librarian"}
    assert len(seen) >= 50


def test_a_swapped_in_model_is_out_of_the_collectors_sight(swap_env: ApiEnv) -> None:
    """Full GC collections must not walk the loaded model: that was a 0.3 s pause in
    whichever live request triggered one."""
    import gc

    bundle = swap_env.runtime.bundle
    assert bundle is not None
    swap_env.runtime.swap(bundle)
    assert gc.get_freeze_count() > 0
    tracked = {id(o) for o in gc.get_objects()}
    assert id(bundle.recommender) not in tracked
    assert id(bundle.recommender.context) not in tracked


def test_a_swap_returns_the_memory_that_loading_freed() -> None:
    """Freed heap memory goes back to the system after a load (glibc keeps it otherwise:
    2 GB per worker after building the BM25 index of 87k cases). In a fresh process."""
    import subprocess
    import sys

    code = """
import gc
from recsvc.serving import freeze_heap
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
scratch = [bytes(2048) for _ in range(150_000)]  # heap, not mmap: like an index build
keep = scratch[::500]  # a few survivors pin the heap's top, as a loaded model does
del scratch
gc.collect()
before = rss()
freeze_heap()
print(before - rss())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) > 200e6


def test_loading_a_model_reports_where_the_time_went(
    swap_env: ApiEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """Operators see each load step's seconds (at 100k clients a load takes minutes), and
    the past cases' BM25 index is read by the load, not by the first live request."""
    import logging

    lexical = swap_env.runtime.semantic.lexical
    assert isinstance(lexical, LazyIndexes) and lexical.loaded() == {"cases"}
    assert swap_env.runtime.semantic._cases_of is not None
    version = swap_env.runtime.bundle.version  # type: ignore[union-attr]
    with caplog.at_level(logging.INFO, logger="recsvc.serving.bundle"):
        swap_env.runtime.open_version(version)
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("loaded "))
    for step in ("data", "scores", "recommender", "portal lists"):
        assert f"{step} " in line and "s," in line, line


def test_a_serving_process_searches_with_one_faiss_thread(swap_env: ApiEnv) -> None:
    """Live searches are one query at a time; OpenMP threads only spin (15x slower).
    ``open_runtime`` sets the count that every searching thread applies
    (``test_semantic`` checks that a fresh thread gets it)."""
    from recsvc.semantic import index

    assert swap_env.settings.search_threads == 1
    assert index._search_threads == 1


def test_workers_loading_one_version_write_nothing_and_map_built_files(
    swap_env: ApiEnv,
) -> None:
    """Server workers never write a version's files: without serving files of their
    snapshot each computes them in memory; once ``recsvc serving build`` wrote them,
    every worker maps the same files."""
    import shutil

    from recsvc.serving import build_serving_files, snapshot_dir

    runtime = swap_env.runtime
    version = runtime.bundle.version  # type: ignore[union-attr]
    folder = runtime.registry.path(version)
    saved = snapshot_dir(runtime.settings, version)
    shutil.rmtree(saved, ignore_errors=True)

    def files() -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    before = files()
    loaded = []
    workers = [
        threading.Thread(target=lambda: loaded.append(runtime.open_version(version)))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(loaded) == 2 and files() == before and not saved.exists()
    assert not any(isinstance(b.recommender.explainer.state.sims, np.memmap) for b in loaded)
    build_serving_files(runtime.settings, runtime.db, runtime.semantic_or_none(), version, folder)
    assert files() == before and saved.is_dir()
    again = [runtime.open_version(version) for _ in range(2)]
    assert all(isinstance(b.recommender.explainer.state.sims, np.memmap) for b in again)
    assert all(b.recommender.ranker.mapped for b in again)
