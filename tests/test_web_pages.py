"""Console pages over a small store without a model (fast, no browser)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from recsvc.store import Database
from recsvc.store.enums import JobStatus
from recsvc.store.models import TrainingJob
from tests.fixtures_web import Keys, csrf_of, sign_in


def test_client_page_without_model_shows_profile_and_timeline(
    web_app: TestClient, web_keys: Keys
) -> None:
    sign_in(web_app, web_keys.librarian)
    page = web_app.get("/console/clients/C001")
    assert page.status_code == 200
    assert "华东生物疫苗有限公司" in page.text
    assert "猪瘟疫苗佐剂研究" in page.text
    assert "尚无可用模型" in page.text


def test_contacts_only_for_roles_that_may_see_personal_data(
    web_app: TestClient, web_keys: Keys
) -> None:
    sign_in(web_app, web_keys.librarian)
    assert "13800000000" in web_app.get("/console/clients/C001").text
    web_app.cookies.clear()
    sign_in(web_app, web_keys.analyst)
    page = web_app.get("/console/clients/C001")
    assert "13800000000" not in page.text and "张三" not in page.text
    assert "您的角色不显示个人信息" in page.text


def test_analyst_may_not_record_outcomes(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.analyst)
    page = web_app.get("/console/clients/C001")
    resp = web_app.post(
        "/console/clients/C001/outcome",
        data={"impression_id": "1", "outcome": "accepted", "csrf_token": csrf_of(page.text)},
    )
    assert resp.status_code == 403


def test_unknown_impression_is_a_404_page(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.librarian)
    page = web_app.get("/console/clients/C001")
    resp = web_app.post(
        "/console/clients/C001/outcome",
        data={"impression_id": "999", "outcome": "accepted", "csrf_token": csrf_of(page.text)},
    )
    assert resp.status_code == 404
    assert "未找到" in resp.text


def _job(db: Database, status: JobStatus, progress: float) -> str:
    job_id = f"job-{status.value}"
    with db.session() as s:
        s.add(
            TrainingJob(
                id=job_id,
                status=status,
                progress=progress,
                message="value model",
                requested_by="ana-li",
                result={"version": "v20250101-000000"} if status is JobStatus.SUCCEEDED else None,
            )
        )
    return job_id


def test_training_progress_fragment_polls_until_done(
    web_app: TestClient, web_keys: Keys, small_store: Database
) -> None:
    running = _job(small_store, JobStatus.RUNNING, 0.4)
    done = _job(small_store, JobStatus.SUCCEEDED, 1.0)
    sign_in(web_app, web_keys.analyst)
    page = web_app.get(f"/console/models?job={running}")
    assert page.status_code == 200
    assert 'hx-trigger="every 1s"' in page.text and 'value="0.4"' in page.text
    fragment = web_app.get(f"/console/models/jobs/{running}")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "hx-get" in fragment.text
    finished = web_app.get(f"/console/models/jobs/{done}")
    assert "hx-get" not in finished.text and "v20250101-000000" in finished.text


def test_every_post_form_carries_the_csrf_token(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.admin)
    for path in ("/console/models", "/console/clients/C001", "/console/search"):
        html = web_app.get(path).text
        forms = html.count('method="post"')
        assert forms >= 2, path
        assert html.count('name="csrf_token"') >= forms, path


def test_an_unexpected_error_is_a_calm_html_page(
    web_app: TestClient, web_keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsvc.usecases import search

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(search, "search", broken)
    sign_in(web_app, web_keys.librarian)
    resp = web_app.get("/console/search?q=x")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("text/html")
    assert "出错了" in resp.text and "boom" not in resp.text


def test_start_retraining_redirects_to_its_progress(
    web_app: TestClient, web_keys: Keys, small_store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsvc.usecases import jobs

    started: list[str] = []

    def start_training(rt: object, *, requested_by: str) -> TrainingJob:
        started.append(requested_by)
        return jobs.job(rt, job_id=_job(small_store, JobStatus.QUEUED, 0.0))  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "start_training", start_training)
    sign_in(web_app, web_keys.analyst)
    page = web_app.get("/console/models")
    resp = web_app.post(
        "/console/models/train", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/console/models?job=job-queued"
    assert started == ["ana-li"]
    progress = web_app.get(resp.headers["location"])
    assert "排队中" in progress.text and 'hx-get="/console/models/jobs/job-queued"' in progress.text
