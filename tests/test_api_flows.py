"""The API's jobs end to end on the small demo with a trained model."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from recsvc.store.models import Client
from tests.fixtures_api import TRAIN_JOB_WITH_FAKE_EMBEDDER, ApiEnv, demo_env, open_demo


def test_client_list_filters_and_pages(api_demo: ApiEnv) -> None:
    page = api_demo.get("/api/v1/clients?limit=5&offset=5", "analyst").json()
    assert page["count"] >= 100 and len(page["data"]) == 5
    first = page["data"][0]
    assert "email" not in first and "client_id" not in first
    kind = api_demo.get(f"/api/v1/clients?kind={first['kind']}&limit=500", "librarian").json()
    assert kind["data"] and {c["kind"] for c in kind["data"]} == {first["kind"]}
    q = api_demo.get("/api/v1/clients", "librarian", params={"q": first["external_id"]}).json()
    assert q["count"] == 1 and q["data"][0]["external_id"] == first["external_id"]


@pytest.mark.parametrize(
    ("who", "sees_contacts"), [("librarian", True), ("admin", True), ("analyst", False)]
)
def test_profile_personal_data_by_role(api_demo: ApiEnv, who: str, sees_contacts: bool) -> None:
    resp = api_demo.get(f"/api/v1/clients/{api_demo.clients['A']}", who)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["commissions"] and body["score"] is not None
    score = body["score"]
    assert 0 <= score["value_probability"] <= 1 and score["reasons"]
    assert score["segment"] and score["relationship_stage"] and score["actions"]
    assert body["model_version"] == api_demo.runtime.bundle.version  # type: ignore[union-attr]
    if sees_contacts:
        assert body["contacts"] is not None
    else:
        assert body["contacts"] is None and "@" not in resp.text


def test_next_best_services_and_feedback(api_demo: ApiEnv) -> None:
    resp = api_demo.get(f"/api/v1/clients/{api_demo.clients['A']}/recommendations?k=3", "librarian")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["served_from"] == "live" and 0 < body["count"] <= 3
    assert resp.headers["x-model-version"] == body["model_version"]
    top = body["data"][0]
    assert top["reasons_en"] and top["reasons_zh"] and top["sources"] and top["impression_id"]
    fb = api_demo.post(
        "/api/v1/feedback",
        "librarian",
        json={"impression_id": top["impression_id"], "outcome": "declined", "reason": "no_budget"},
    )
    assert fb.status_code == 201, fb.text
    assert fb.json()["item_code"] == top["code"] and fb.json()["event"] == "declined"
    again = api_demo.post(
        "/api/v1/feedback",
        "librarian",
        json={"impression_id": top["impression_id"], "outcome": "declined"},
    )
    assert again.status_code == 409
    bad = api_demo.post(
        "/api/v1/feedback",
        "librarian",
        json={"impression_id": top["impression_id"], "outcome": "purchased", "reason": "no_budget"},
    )
    assert bad.status_code == 422
    metrics = api_demo.get("/metrics").text
    assert 'recsvc_recommendation_outcomes_total{event="declined",surface="librarian"}' in metrics
    assert "recsvc_recommendations_total{" in metrics
    assert 'route="/api/v1/clients/{external_id}/recommendations"' in metrics


def test_similar_clients_and_search(api_demo: ApiEnv) -> None:
    sim = api_demo.get(f"/api/v1/clients/{api_demo.clients['A']}/similar?k=4", "librarian")
    assert sim.status_code == 200, sim.text
    assert 0 < sim.json()["count"] <= 4
    assert api_demo.clients["A"] not in {c["external_id"] for c in sim.json()["data"]}
    hits = api_demo.get("/api/v1/search", "analyst", params={"q": "专利", "kind": "products"})
    assert hits.status_code == 200 and hits.json()["count"] > 0
    com = api_demo.get("/api/v1/search", "librarian", params={"q": "材料", "kind": "commissions"})
    assert com.status_code == 200
    for h in com.json()["data"]:
        assert "client_id" not in h["meta"] and "commission_id" not in h["meta"]


def test_worklist_json_csv_xlsx(api_demo: ApiEnv) -> None:
    resp = api_demo.get("/api/v1/worklist?limit=5", "librarian")
    assert resp.status_code == 200, resp.text
    rows = resp.json()["data"]
    assert len(rows) == 5 and rows[0]["reason_zh"] and rows[0]["product_code"]
    values = [r["expected_value"] or 0.0 for r in rows]
    assert values == sorted(values, reverse=True)  # ranked by value by default
    by_p = api_demo.get("/api/v1/worklist?limit=5&sort=probability", "librarian").json()["data"]
    p = [r["probability"] for r in by_p]
    assert p == sorted(p, reverse=True) and all(r["score"] == r["probability"] for r in by_p)
    seg = rows[0]["segment"]
    same = api_demo.get(f"/api/v1/worklist?limit=5&segment={seg}", "librarian").json()["data"]
    assert {r["segment"] for r in same} == {seg}
    csv = api_demo.get("/api/v1/worklist?limit=5&format=csv", "librarian")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert rows[0]["client_external_id"] in text and "客户编号" in text
    xlsx = api_demo.get("/api/v1/worklist?limit=5&format=xlsx", "admin")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 6


def test_upload_rejected_leaves_store_untouched(api_demo: ApiEnv) -> None:
    with api_demo.runtime.db.session() as s:
        before = s.scalar(select(func.count()).select_from(Client))
    bad = "external_id,kind,name_zh\nCX-1,enterprise,好\nCX-2,spaceship,坏\n"
    resp = api_demo.post(
        "/api/v1/imports", "analyst", files={"file": ("clients.csv", bad.encode(), "text/csv")}
    )
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["type"].endswith("/importrejected")
    problem = body["errors"][0]
    assert problem["file"] == "clients.csv" and problem["field"] == "kind" and problem["row"]
    assert problem["reason"]
    with api_demo.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Client)) == before
    wrong = api_demo.post(
        "/api/v1/imports",
        "analyst",
        files={"file": ("notes.exe", b"MZ", "application/octet-stream")},
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "file"


def test_upload_accepted(api_demo: ApiEnv) -> None:
    good = "external_id,kind,name_zh\nCUP-1,enterprise,上传测试有限公司\n"
    resp = api_demo.post(
        "/api/v1/imports",
        "admin",
        files={"file": ("clients.csv", good.encode(), "text/csv")},
        data={"dry_run": "true"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["data"][0] == {
        "entity": "clients",
        "source": "clients.csv",
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "dry_run": True,
    }
    resp = api_demo.post(
        "/api/v1/imports", "analyst", files={"file": ("clients.csv", good.encode(), "text/csv")}
    )
    assert resp.status_code == 201 and resp.json()["data"][0]["inserted"] == 1
    assert api_demo.get("/api/v1/clients/CUP-1", "librarian").status_code == 200


def test_models_report_and_plots(api_demo: ApiEnv) -> None:
    listing = api_demo.get("/api/v1/models", "analyst").json()
    active = listing["active"]
    assert active and listing["serving"] == active and listing["count"] >= 1
    assert listing["data"][-1]["metrics"]["value"]["auc"] > 0.5
    report = api_demo.get(f"/api/v1/models/{active}/report", "analyst").json()
    assert report["metrics"] and report["plots"]
    png = api_demo.get(report["plots"][0], "analyst")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert api_demo.get(f"/api/v1/models/{active}/plots/nope.png", "analyst").status_code == 404
    assert api_demo.get("/api/v1/models/v19990101-000000/report", "analyst").status_code == 404
    assert api_demo.post("/api/v1/models/rollback", "analyst").status_code == 409
    ready = api_demo.get("/readyz").json()
    assert ready == {
        "status": "ready",
        "database": True,
        "model_loaded": True,
        "model_version": active,
        "model_error": None,
        "worker": os.getpid(),  # the test client serves in this process
    }


@pytest.mark.slow
def test_training_job_runs_in_the_background(api_demo_bundle: Path, tmp_path: Path) -> None:
    """A real training job: a subprocess trains, the job row reports progress and the
    result, and the new version is swapped in."""
    settings, runtime = open_demo(api_demo_bundle, tmp_path, job_argv=TRAIN_JOB_WITH_FAKE_EMBEDDER)
    for env in demo_env(settings, runtime):
        old = runtime.bundle.version  # type: ignore[union-attr]
        resp = env.post("/api/v1/jobs/training", "analyst")
        assert resp.status_code == 202, resp.text
        job = resp.json()
        assert job["status"] in ("queued", "running")
        deadline = time.monotonic() + 600
        progress = []
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(2)
            job = env.get(f"/api/v1/jobs/{job['id']}", "analyst").json()
            progress.append(job["progress"])
        assert job["status"] == "succeeded", job
        assert job["progress"] == 1.0 and job["finished_at"]
        new = job["result"]["version"]
        assert new != old and new in {
            v["version"] for v in env.get("/api/v1/models", "admin").json()["data"]
        }
        if job["result"]["promoted"]:
            for _ in range(60):
                if runtime.bundle.version == new:  # type: ignore[union-attr]
                    break
                time.sleep(1)
            assert runtime.bundle.version == new  # type: ignore[union-attr]
