"""A registered version folder is immutable: loading it, serving live and portal calls,
promoting and rolling back leave every byte of it as it was."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from recsvc.semantic import FakeEmbedder
from recsvc.usecases import clients, open_runtime
from tests.conftest import copy_tree, tree_digest
from tests.fixtures_api import _demo_settings, make_keys, second_version


def test_serving_promote_and_rollback_leave_the_version_folders_untouched(
    api_demo_bundle: Path, tmp_path: Path
) -> None:
    for sub in ("data", "models"):
        copy_tree(api_demo_bundle / sub, tmp_path / sub)
    settings = _demo_settings(tmp_path)
    v1, v2 = second_version(settings)
    folders = {v: settings.models_dir / v for v in (v1, v2)}
    watched = [*folders.values(), settings.serving_dir]
    before = tree_digest(watched)
    assert before

    rt = open_runtime(settings, embedder=FakeEmbedder())
    try:
        bundle = rt.require_bundle()
        portal_id = sorted(bundle.portal_recs)[0]
        external = clients.external_ids(rt, client_ids=[portal_id])
        keys = make_keys(rt, external[portal_id], external[portal_id])
        with TestClient(create_app(settings, rt), raise_server_exceptions=False) as http:
            lib = {"Authorization": f"Bearer {keys['librarian']}"}
            ana = {"Authorization": f"Bearer {keys['analyst']}"}
            portal = {"Authorization": f"Bearer {keys['portal']}"}
            live = http.get(f"/api/v1/clients/{external[portal_id]}/recommendations", headers=lib)
            assert live.status_code == 200, live.text
            assert http.get("/api/v1/me/recommendations", headers=portal).status_code == 200
            assert http.get("/api/v1/worklist?limit=5", headers=lib).status_code == 200
            promoted = http.post(f"/api/v1/models/{v2}/promote?force=true", headers=ana)
            assert promoted.status_code == 200 and promoted.json()["serving"] == v2
            assert http.get("/api/v1/me/recommendations", headers=portal).status_code == 200
            back = http.post("/api/v1/models/rollback", headers=ana)
            assert back.status_code == 200 and back.json()["serving"] == v1
    finally:
        rt.close()

    assert tree_digest(watched) == before
