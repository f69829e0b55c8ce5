"""The semantic layer on the demo store (FakeEmbedder): build from a Database, the
anonymisation of cases at scale, and the CLI commands end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recsvc.config import Settings
from recsvc.semantic import FakeEmbedder, Scope, SemanticLayer, build_semantic
from recsvc.store import Database
from recsvc.store.frames import Frames


@pytest.fixture(scope="module")
def demo_layer(demo_frames: Frames, tmp_path_factory: pytest.TempPathFactory) -> SemanticLayer:
    from tests.conftest import make_settings

    return build_semantic(
        demo_frames, make_settings(tmp_path_factory.mktemp("sem")), FakeEmbedder()
    )


def test_build_from_the_database_indexes_every_record(
    demo_db: Database, demo_settings: Settings
) -> None:
    layer = build_semantic(demo_db, demo_settings, FakeEmbedder())
    counts = demo_db.counts()
    stats = layer.stats()
    assert stats["commissions"]["count"] == counts["commissions"]
    assert stats["clients"]["count"] == counts["clients"]
    assert stats["products"]["count"] == counts["products"]
    assert 0 < stats["cases"]["count"] <= counts["orders"]


def test_case_summaries_never_name_the_client_nor_quote_a_title(
    demo_layer: SemanticLayer, demo_frames: Frames
) -> None:
    clients = demo_frames.clients.set_index("client_id")
    comms = demo_frames.commissions.set_index("commission_id")
    for case in demo_layer.docs["cases"].values():
        c, m = clients.loc[case.client_id], comms.loc[case.meta["commission_id"]]
        blob = f"{case.text} {case.title} {case.summary} {case.meta['summary_zh']}"
        for secret in (c["name_zh"], c["name_en"], c["external_id"], m["title_zh"], m["title_en"]):
            assert not (isinstance(secret, str) and secret and secret in blob), (secret, blob)


def test_portal_scope_at_scale_never_shows_other_clients(
    demo_layer: SemanticLayer, demo_frames: Frames
) -> None:
    clients = demo_frames.clients.set_index("client_id")
    a = int(clients.index[0])
    others = clients.drop(index=a)
    names = {
        n
        for col in ("name_zh", "name_en", "external_id")
        for n in others[col]
        if isinstance(n, str) and n
    }
    titles = {
        t
        for col in ("title_zh", "title_en")
        for t in demo_frames.commissions.loc[demo_frames.commissions["client_id"] != a, col]
        if isinstance(t, str) and len(t) > 8
    }
    queries = list(demo_frames.commissions["title_zh"].dropna().sample(15, random_state=1))
    queries += [str(n) for n in others["name_zh"].dropna().head(5)]
    for query in queries:
        for kind in ("cases", "products"):
            for hit in demo_layer.search(query, kind, k=10, scope=Scope.portal(a)):
                blob = json.dumps(hit.as_dict(), ensure_ascii=False)
                assert not [s for s in names | titles if s in blob], blob


@pytest.fixture
def cli_env(demo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI on the demo store copy, with the FakeEmbedder behind load_embedder."""
    import recsvc.semantic.layer as layer_mod
    from recsvc.cli import _common

    monkeypatch.setenv("RECSVC_DATA_DIR", str(demo_settings.data_dir))
    monkeypatch.setenv("RECSVC_DATABASE_URL", demo_settings.database_url)
    monkeypatch.setenv("RECSVC_MODELS_DIR", str(demo_settings.models_dir))
    monkeypatch.setattr(layer_mod, "load_embedder", lambda settings, cached=True: FakeEmbedder())
    _common.settings.cache_clear()
    yield demo_settings
    _common.settings.cache_clear()


def test_cli_index_build_search_and_similar(cli_env: Settings, demo_frames: Frames) -> None:
    from recsvc.cli import app

    runner = CliRunner()
    built = runner.invoke(app, ["index", "build", "--no-progress"])
    assert built.exit_code == 0, built.output
    assert (
        "commissions" in built.stdout and Path(cli_env.data_dir, "indexes", "config.json").exists()
    )

    title = str(demo_frames.commissions["title_zh"].dropna().iloc[0])
    found = runner.invoke(app, ["search", title, "--kind", "commissions", "-k", "3", "--json"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.stdout)
    assert hits and all(re.fullmatch(r"\S+", h["id"]) for h in hits)
    external = set(demo_frames.commissions["external_id"])
    assert hits[0]["id"] in external  # the CLI speaks external ids, not internal ones

    client = str(demo_frames.clients["external_id"].iloc[0])
    similar = runner.invoke(app, ["similar", "--client", client, "-k", "3", "--json"])
    assert similar.exit_code == 0, similar.output
    rows = json.loads(similar.stdout)
    assert len(rows) == 3 and client not in {r["external_id"] for r in rows}

    commission = str(demo_frames.commissions["external_id"].iloc[0])
    like = runner.invoke(app, ["similar", "--commission", commission, "-k", "3", "--json"])
    assert like.exit_code == 0, like.output
    assert set(json.loads(like.stdout)) == {"commissions", "cases"}

    table = runner.invoke(app, ["search", "analysis", "--kind", "products", "-k", "2"])
    assert table.exit_code == 0 and "lexical" in table.stdout
    bad = runner.invoke(app, ["similar", "--client", "NO-SUCH-CLIENT"])
    assert bad.exit_code != 0
