"""Erasure, part by part: the command line (and a server following another process's
erasure), HNSW compaction, the embedding cache, and versions trained before their
portal lists moved out of the version folder. The must-show is tests/test_erasure.py."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from recsvc.cli import app as cli_app
from recsvc.registry import Registry
from recsvc.semantic import CachedEmbedder, FakeEmbedder, VectorIndex
from recsvc.semantic.cache import forget_texts
from recsvc.semantic.documents import build_docs
from recsvc.semantic.text import text_hash
from recsvc.store import Database
from recsvc.store.frames import load_frames
from recsvc.usecases import clients, erasure, open_runtime
from recsvc.usecases.audit import AuditSurface
from tests.conftest import copy_tree
from tests.fixtures_api import ApiEnv, _demo_settings


def test_the_command_confirms_erases_and_a_server_follows(cli_env: ApiEnv) -> None:
    runner = CliRunner()
    args = ["clients", "erase", "CA-001", "--reason", "request by letter"]
    kept = runner.invoke(cli_app, args, input="n\n")
    assert (
        kept.exit_code != 0
        and cli_env.get("/api/v1/clients/CA-001", "librarian").status_code == 200
    )
    done = runner.invoke(cli_app, [*args, "--yes"])
    assert done.exit_code == 0, done.output
    assert "rows.clients" in done.output
    cli_env.runtime.refresh_if_changed()  # what a server's watcher does every few seconds
    assert cli_env.get("/api/v1/clients/CA-001", "librarian").status_code == 404
    assert cli_env.get("/api/v1/me/recommendations", "portal").status_code == 401
    listed = runner.invoke(cli_app, ["clients", "erasures", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["actor_role"] is None
    unknown = runner.invoke(cli_app, ["clients", "erase", "CA-001", "--reason", "x", "--yes"])
    assert unknown.exit_code != 0


def test_an_hnsw_index_drops_erased_vectors_at_once() -> None:
    """Removing from HNSW leaves a tombstone (the vector stays in the graph and in the
    saved file); erasing compacts it away."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.build(list(range(60)), vectors, kind="hnsw")
    index.remove([1])
    assert index.tombstones == 1 and index.raw.ntotal == 60
    assert index.erase([2, 3, 99]) == 2
    assert index.tombstones == 0 and index.raw.ntotal == len(index) == 57
    assert not {1, 2, 3} & set(index.ids())
    keys, _ = index.search(vectors[[2]], 57)
    assert not {1, 2, 3} & set(keys[0])


def test_the_embedding_cache_forgets_texts_in_every_shard(tmp_path: Path) -> None:
    cache = CachedEmbedder(FakeEmbedder(dim=8), tmp_path)
    cache.encode(["a", "b", "c"])
    cache.encode(["d"])  # a second shard
    assert cache.forget(["b", "d", "zz"]) == 2 and len(cache) == 2
    assert forget_texts(tmp_path, ["b", "d", "zz"]) == 2
    reopened = CachedEmbedder(FakeEmbedder(dim=8), tmp_path)
    assert len(reopened) == 2
    reopened.encode(["a", "b"])
    assert reopened.last_misses == 1  # "b" is embedded again: it was gone
    keys = b"".join(p.read_bytes() for p in tmp_path.rglob("*.keys.json"))
    assert text_hash("d").encode() not in keys


def test_without_an_index_the_cache_forgets_the_texts_rebuilt_from_the_store(
    api_env: ApiEnv,
) -> None:
    """A store never indexed may still have cached vectors (training embeds commissions
    through the cache): the erasure rebuilds the client's texts to find them."""
    rt, cache_dir = api_env.runtime, api_env.settings.cache_dir
    assert rt.semantic_or_none() is None and cache_dir is not None
    cid = clients.client_id(rt, external_id="CB-002")
    docs = build_docs(load_frames(rt.db))
    kinds = ("clients", "commissions")
    texts = [(d.client_id == cid, d.text) for kind in kinds for d in docs[kind]]
    mine = {t for is_mine, t in texts if is_mine}
    others = {t for is_mine, t in texts if not is_mine} - mine
    assert mine and others
    CachedEmbedder(FakeEmbedder(dim=8), cache_dir).encode(sorted(mine | others))
    done = erasure.erase_client(
        rt, external_id="CB-002", reason="letter", principal=None, surface=AuditSurface.CLI
    )
    assert done.counts["cache.vectors"] == len(mine)
    reopened = CachedEmbedder(FakeEmbedder(dim=8), cache_dir)
    reopened.encode(sorted(mine | others))
    assert reopened.last_misses == len(mine)


def test_a_version_that_keeps_its_lists_in_its_folder_is_served_and_patched_there(
    api_demo_bundle: Path, tmp_path: Path
) -> None:
    """Versions trained before the portal lists moved to the serving folder keep
    ``portal/`` and ``kept/`` in their own folder: they are still served, and an
    erasure patches them there (the one write into a version folder)."""
    for sub in ("data", "models"):
        copy_tree(api_demo_bundle / sub, tmp_path / sub)
    settings = _demo_settings(tmp_path)
    version = Registry(settings.models_dir).active()
    assert version is not None
    outside = Path(settings.serving_dir) / version
    for name in ("portal", "kept"):
        shutil.move(outside / name, settings.models_dir / version / name)
    rt = open_runtime(settings, embedder=FakeEmbedder(), warm_worklist=False)
    try:
        lists = rt.require_bundle().portal_recs
        cid = sorted(lists)[3]
        assert len(lists) > 100
        ext = clients.external_ids(rt, client_ids=[cid])[cid]
        done = erasure.erase_client(
            rt, external_id=ext, reason="legacy layout", principal=None, surface=AuditSurface.CLI
        )
        assert done.counts["serving.portal_lists"] == 1
        assert cid not in rt.require_bundle().portal_recs
        assert len(rt.require_bundle().portal_recs) == len(lists) - 1
        assert not (outside / "portal").exists()
    finally:
        rt.close()


def test_the_rows_go_in_one_transaction_with_the_record(any_db: Database) -> None:
    """On SQLite and PostgreSQL: every row of the client goes, another client's row that
    linked one of its commissions keeps its row and loses the link, and the record
    names the client by its internal id only."""
    from recsvc.auth import create_key
    from recsvc.store import queries
    from recsvc.store.enums import ClientKind, FeedbackKind, Role
    from recsvc.store.models import Client, Commission, Contact, Erasure, Feedback, Product

    with any_db.session() as s:
        gone, stays = (
            Client(external_id="G-1", kind=ClientKind.OTHER),
            Client(external_id="S-1", kind=ClientKind.OTHER),
        )
        s.add_all([gone, stays])
        s.flush()
        commission = Commission(
            external_id="K-1",
            client_id=gone.id,
            title_zh="待删",
            commissioned_on=dt.date(2025, 1, 2),
        )
        s.add_all([commission, Contact(external_id="P-1", client_id=gone.id, name="张三")])
        s.flush()
        s.add_all(
            [
                Feedback(
                    external_id=f"F-{n}",
                    client_id=owner,
                    commission_id=commission.id,
                    kind=FeedbackKind.REPORT,
                    received_on=dt.date(2025, 2, 1),
                )
                for n, owner in ((1, gone.id), (2, stays.id))
            ]
        )
        gone_id, stays_id = gone.id, stays.id
        assert s.query(Product).count()  # the catalogue stays whole
    create_key(any_db, "portal-g", Role.PORTAL, "G-1")
    record, rows = queries.erase_client_rows(
        any_db, client_id=gone_id, reason="r", actor_key_id=9, actor_role="admin", counts={"x": 1}
    )
    assert rows["clients"] == rows["commissions"] == rows["contacts"] == rows["api_keys"] == 1
    assert rows["feedback"] == 1
    with any_db.session() as s:
        assert s.get(Client, gone_id) is None and s.get(Client, stays_id) is not None
        (kept,) = s.query(Feedback).all()
        assert kept.client_id == stays_id and kept.commission_id is None
        erased = s.get(Erasure, record)
        assert erased is not None and erased.client_id == gone_id and erased.actor_key_id == 9
        assert erased.counts["x"] == 1 and erased.counts["rows.commissions"] == 1
    assert queries.latest_erasure(any_db) == record
