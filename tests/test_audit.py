"""The audit trail: one event per successful audited call (API, console, CLI), none
for a failed one, never personal data or query text; admin-only listing; retention."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from recsvc.cli import app as cli_app
from recsvc.config import Settings
from recsvc.runtime import Runtime
from recsvc.store import Database
from recsvc.store.models import ApiKey, AuditEvent, Client, Commission, Contact
from recsvc.usecases import audit
from recsvc.usecases.audit import AuditAction, AuditSurface
from tests.fixtures_api import ApiEnv, second_version
from tests.fixtures_web import csrf_of, sign_in

SEARCH_TEXT = "猪瘟疫苗佐剂 vaccine adjuvant"


def _last_id(rt: Runtime) -> int:
    audit.flush(rt)
    with rt.db.session() as s:
        return s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def _since(rt: Runtime, last: int) -> list[AuditEvent]:
    audit.flush(rt)  # what the writer thread would write within a quarter second
    with rt.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.id > last)))


def _key_id(rt: Runtime, name: str) -> int:
    with rt.db.session() as s:
        key_id = s.scalar(select(ApiKey.id).where(ApiKey.name == name))
    assert key_id is not None
    return key_id


def _client_id(rt: Runtime, external_id: str) -> int:
    with rt.db.session() as s:
        cid = s.scalar(select(Client.id).where(Client.external_id == external_id))
    assert cid is not None
    return cid


def _one(env: ApiEnv, last: int, action: str, who: str, client: str | None) -> AuditEvent:
    """The single event recorded since ``last``, checked against what was expected."""
    events = _since(env.runtime, last)
    assert [e.action for e in events] == [action], events
    (event,) = events
    key_name = {"portal": "test-portal-a"}.get(who, f"test-{who}")
    assert event.actor_key_id == _key_id(env.runtime, key_name)
    assert event.actor_role == ("portal" if who == "portal" else who)
    expected = _client_id(env.runtime, env.clients[client]) if client else None
    assert event.client_id == expected
    return event


# -- the JSON API ------------------------------------------------------------------------


def _api_calls(env: ApiEnv) -> list[tuple[str, str, str, dict[str, Any], str, str | None]]:
    """(method, path, who, request kwargs, action, client key) for every audited route."""
    a = env.clients["A"]
    version = env.runtime.registry.active()
    plot = env.path_params()["name"]
    upload = "external_id,kind,name_zh\nCAUD-1,enterprise,审计测试有限公司\n"
    search = {"params": {"q": SEARCH_TEXT, "kind": "clients"}}
    files = {"file": ("clients.csv", upload.encode(), "text/csv")}
    dry = {"files": files, "data": {"dry_run": "true", "entity": "clients"}}
    recs = "client.recommendations"
    export = "worklist.export"
    return [
        ("GET", f"/api/v1/clients/{a}", "librarian", {}, "client.view", "A"),
        ("GET", f"/api/v1/clients/{a}", "analyst", {}, "client.view", "A"),
        ("GET", f"/api/v1/clients/{a}/recommendations", "librarian", {}, recs, "A"),
        ("GET", f"/api/v1/clients/{a}/similar", "analyst", {}, "client.similar", "A"),
        ("GET", "/api/v1/search", "librarian", search, "search", None),
        ("GET", "/api/v1/worklist", "librarian", {}, "worklist.view", None),
        ("GET", "/api/v1/worklist", "librarian", {"params": {"format": "csv"}}, export, None),
        ("GET", "/api/v1/worklist", "admin", {"params": {"format": "xlsx"}}, export, None),
        ("GET", "/api/v1/me/recommendations", "portal", {}, recs, "A"),
        ("GET", f"/api/v1/models/{version}/report", "analyst", {}, "report.download", None),
        ("GET", f"/api/v1/models/{version}/plots/{plot}", "analyst", {}, "report.download", None),
        ("POST", "/api/v1/jobs/training", "analyst", {}, "model.train", None),
        ("POST", "/api/v1/imports", "analyst", dry, "import", None),
        ("GET", "/api/v1/audit", "admin", {}, "audit.view", None),
    ]


def test_each_audited_api_call_records_one_event(api_demo: ApiEnv) -> None:
    for method, path, who, kwargs, action, client in _api_calls(api_demo):
        last = _last_id(api_demo.runtime)
        call = api_demo.get if method == "GET" else api_demo.post
        resp = call(path, who, **kwargs)
        assert resp.status_code < 400, (path, resp.text)
        event = _one(api_demo, last, action, who, client)
        assert event.surface == "api"
        if path.endswith("/search"):
            assert event.target == "clients"
        if path.endswith("/imports"):
            assert event.target == "clients" and event.detail == {"dry_run": True}
        if action == "client.view":
            assert event.detail == {"contacts": who == "librarian"}
        if action == "client.recommendations":
            assert event.target == ("portal" if who == "portal" else "librarian")


def test_failed_calls_record_nothing(api_demo: ApiEnv) -> None:
    a = api_demo.clients["A"]
    failing = [
        (f"/api/v1/clients/{a}", None, {}, 401),
        (f"/api/v1/clients/{a}", "portal", {}, 403),
        (f"/api/v1/clients/{a}/recommendations", "analyst", {}, 403),
        ("/api/v1/clients/NO-SUCH-CLIENT", "librarian", {}, 404),
        (f"/api/v1/clients/{a}/recommendations", "librarian", {"params": {"k": 0}}, 422),
        ("/api/v1/search", "librarian", {"params": {"q": SEARCH_TEXT, "kind": "nope"}}, 422),
        ("/api/v1/me/recommendations", "librarian", {}, 403),
        ("/api/v1/models/v19990101-000000/report", "analyst", {}, 404),
        ("/api/v1/audit", "analyst", {}, 403),
    ]
    last = _last_id(api_demo.runtime)
    for path, who, kwargs, status in failing:
        assert api_demo.get(path, who, **kwargs).status_code == status, path
    assert api_demo.post("/api/v1/models/rollback", "analyst").status_code == 409
    assert _since(api_demo.runtime, last) == []


def _two_versions(env: ApiEnv) -> tuple[str, str]:
    """The active version and a copy of it (made once per module)."""
    v1 = env.runtime.registry.active()
    assert v1 is not None
    if (env.settings.models_dir / f"{v1}-2").exists():
        return v1, f"{v1}-2"
    return second_version(env.settings)


def test_promote_and_rollback_record_their_version(api_demo: ApiEnv) -> None:
    v1, v2 = _two_versions(api_demo)
    last = _last_id(api_demo.runtime)
    resp = api_demo.post(f"/api/v1/models/{v2}/promote", "analyst", params={"force": "true"})
    assert resp.status_code == 200, resp.text
    assert _one(api_demo, last, "model.promote", "analyst", None).target == v2
    last = _last_id(api_demo.runtime)
    assert api_demo.post("/api/v1/models/rollback", "analyst").status_code == 200
    assert _one(api_demo, last, "model.rollback", "analyst", None).target == v1


# -- the console ----------------------------------------------------------------------


@pytest.fixture
def console(api_demo: ApiEnv) -> Iterator[TestClient]:
    """A second browser on the demo app (its own cookies)."""
    with TestClient(api_demo.client.app, base_url="http://127.0.0.1") as client:
        yield client


def _console_sign_in(client: TestClient, env: ApiEnv, who: str) -> None:
    client.cookies.clear()
    sign_in(client, env.keys[who])


def test_each_audited_console_page_records_one_event(api_demo: ApiEnv, console: TestClient) -> None:
    a = api_demo.clients["A"]
    version = api_demo.runtime.registry.active()
    plot = api_demo.path_params()["name"]
    pages = [
        ("librarian", f"/console/clients/{a}", {}, "client.view", "A"),
        ("analyst", f"/console/clients/{a}", {}, "client.view", "A"),
        ("librarian", f"/console/portal/{a}", {}, "client.recommendations", "A"),
        ("portal", f"/console/portal/{a}", {}, "client.recommendations", "A"),
        ("librarian", "/console/", {}, "worklist.view", None),
        ("librarian", "/console/worklist.csv", {}, "worklist.export", None),
        ("librarian", "/console/worklist.xlsx", {"segment": "key"}, "worklist.export", None),
        ("librarian", "/console/search", {"q": SEARCH_TEXT}, "search", None),
        ("analyst", f"/console/models/{version}/plots/{plot}", {}, "report.download", None),
        ("admin", "/console/audit", {}, "audit.view", None),
    ]
    for who, path, params, action, client in pages:
        _console_sign_in(console, api_demo, who)
        last = _last_id(api_demo.runtime)
        resp = console.get(path, params=params)
        assert resp.status_code == 200, (path, resp.text[:300])
        event = _one(api_demo, last, action, who, client)
        assert event.surface == "console"
        if action == "client.view":
            assert event.detail == {"contacts": who == "librarian"}
        if path.endswith("/search"):
            assert event.target == "all"
    # the search form without a query searched nothing: nothing recorded
    _console_sign_in(console, api_demo, "librarian")
    last = _last_id(api_demo.runtime)
    assert console.get("/console/search").status_code == 200
    assert _since(api_demo.runtime, last) == []


def test_console_promote_rollback_and_train(api_demo: ApiEnv, console: TestClient) -> None:
    v1, v2 = _two_versions(api_demo)
    _console_sign_in(console, api_demo, "analyst")
    csrf = csrf_of(console.get("/console/models").text)
    last = _last_id(api_demo.runtime)
    # a challenger that does not win is answered with a 409 page: nothing recorded
    refused = console.post(f"/console/models/{v2}/promote", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert _since(api_demo.runtime, last) == []
    done = console.post(
        f"/console/models/{v2}/promote",
        data={"csrf_token": csrf, "force": "true"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert _one(api_demo, last, "model.promote", "analyst", None).target == v2
    last = _last_id(api_demo.runtime)
    back = console.post(
        "/console/models/rollback", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert back.status_code == 303
    assert _one(api_demo, last, "model.rollback", "analyst", None).target == v1
    last = _last_id(api_demo.runtime)
    train = console.post("/console/models/train", data={"csrf_token": csrf}, follow_redirects=False)
    assert train.status_code == 303
    assert _one(api_demo, last, "model.train", "analyst", None).surface == "console"


def test_console_failures_record_nothing(api_demo: ApiEnv, console: TestClient) -> None:
    a = api_demo.clients["A"]
    b = api_demo.clients["B"]
    last = _last_id(api_demo.runtime)
    assert console.get(f"/console/clients/{a}", follow_redirects=False).status_code in (303, 307)
    _console_sign_in(console, api_demo, "portal")
    assert console.get(f"/console/clients/{a}").status_code == 403
    assert console.get(f"/console/portal/{b}").status_code == 403
    assert console.get("/console/portal/NO-SUCH-CLIENT").status_code == 403
    _console_sign_in(console, api_demo, "librarian")
    assert console.get("/console/clients/NO-SUCH-CLIENT").status_code == 404
    assert console.get("/console/audit").status_code == 403
    _console_sign_in(console, api_demo, "analyst")
    assert console.get("/console/audit").status_code == 403
    assert _since(api_demo.runtime, last) == []


# -- what the trail holds ------------------------------------------------------------------


def _personal_strings(rt: Runtime) -> set[str]:
    """Every name, contact detail, external id and commission title in the store."""
    found: set[str] = set()
    with rt.db.session() as s:
        for row in s.execute(select(Client.external_id, Client.name_zh, Client.name_en)):
            found.update(v for v in row if v)
        for row in s.execute(select(Contact.name, Contact.phone, Contact.email)):
            found.update(v for v in row if v)
        for row in s.execute(select(Commission.title_zh, Commission.title_en)):
            found.update(v for v in row if v)
    return {v for v in found if len(v) >= 3}


def test_the_trail_holds_no_personal_data_or_query_text(
    api_demo: ApiEnv, console: TestClient
) -> None:
    a = api_demo.clients["A"]
    for who in ("librarian", "admin"):
        api_demo.get(f"/api/v1/clients/{a}", who)
        api_demo.get(f"/api/v1/clients/{a}/recommendations", who)
        api_demo.get(f"/api/v1/clients/{a}/similar", who)
        for kind in ("commissions", "clients", "cases"):
            api_demo.get("/api/v1/search", who, params={"q": SEARCH_TEXT, "kind": kind})
        api_demo.get("/api/v1/worklist", who, params={"format": "csv", "segment": "key"})
    api_demo.get("/api/v1/me/recommendations", "portal")
    _console_sign_in(console, api_demo, "librarian")
    console.get(f"/console/clients/{a}")
    console.get("/console/search", params={"q": SEARCH_TEXT, "kind": "all"})
    console.get("/console/", params={"staff": "王老师", "field": "农业"})
    audit.flush(api_demo.runtime)
    with api_demo.runtime.db.session() as s:
        rows = [
            [e.action, e.surface, e.actor_key_id, e.actor_role, e.client_id, e.target, e.detail]
            for e in s.scalars(select(AuditEvent))
        ]
    assert len(rows) >= 20
    dump = json.dumps(rows, ensure_ascii=False, default=str)
    for word in [*SEARCH_TEXT.split(), "王老师", "农业"]:
        assert word not in dump
    leaked = sorted(v for v in _personal_strings(api_demo.runtime) if v in dump)
    assert leaked == []


def test_the_writer_thread_writes_queued_events(api_env: ApiEnv) -> None:
    """No flush by hand: the API's events reach the table on their own."""
    assert api_env.get("/api/v1/clients/CA-001", "librarian").status_code == 200
    deadline = time.monotonic() + 30
    with api_env.runtime.db.session() as s:
        while not s.scalars(select(AuditEvent)).all() and time.monotonic() < deadline:
            s.rollback()
            time.sleep(audit.FLUSH_SECONDS)
        (event,) = s.scalars(select(AuditEvent)).all()
    assert event.action == "client.view" and event.client_id == _client_id(
        api_env.runtime, "CA-001"
    )


def test_a_batch_the_store_refuses_is_kept_and_retried(
    api_env: ApiEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = api_env.runtime
    row = audit.event_row(None, AuditAction.IMPORT, surface=AuditSurface.CLI, target="clients")
    engine = type(rt.db.engine)

    def refuse(_self: Any) -> Any:
        raise RuntimeError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(engine, "begin", refuse)
        audit.record_soon(rt, lambda: row)
        assert audit.flush(rt) == 0
    (event,) = _since(rt, 0)  # flushed again, now the store accepts it
    assert (event.action, event.target) == ("import", "clients")


def test_record_drops_anything_that_is_not_a_code(api_env: ApiEnv) -> None:
    rt = api_env.runtime
    audit.record(
        rt,
        None,
        AuditAction.SEARCH,
        surface=AuditSurface.CLI,
        target="甲生物科技有限公司",
        detail={"q": "猪瘟 疫苗", "k": 5, "kind": "clients", "who": {"name": "张三"}},
    )
    (event,) = _since(rt, 0)
    assert event.target is None and event.detail == {"k": 5, "kind": "clients"}
    with pytest.raises(ValueError):
        audit.record(rt, None, "client.peek", surface=AuditSurface.CLI)


# -- the admin's view ------------------------------------------------------------------


def test_admin_lists_with_filters_and_sees_erased_clients(api_env: ApiEnv) -> None:
    rt = api_env.runtime
    assert api_env.get("/api/v1/clients/CA-001", "librarian").status_code == 200
    assert api_env.get("/api/v1/clients/CB-002", "analyst").status_code == 200
    audit.record(rt, None, AuditAction.CLIENT_ERASE, surface=AuditSurface.CLI, client_id=987654)
    for who in ("librarian", "analyst", "portal", None):
        assert api_env.get("/api/v1/audit", who).status_code in (401, 403)
    body = api_env.get("/api/v1/audit", "admin", params={"client": "CA-001"}).json()
    assert body["count"] == 1
    (only,) = body["data"]
    assert only["client"] == "CA-001" and only["action"] == "client.view"
    assert (
        only["actor_key_id"] == _key_id(rt, "test-librarian") and only["actor_role"] == "librarian"
    )
    assert only["occurred_at"].endswith(("Z", "+00:00"))
    erased = api_env.get("/api/v1/audit", "admin", params={"action": "client.erase"}).json()
    assert [e["client"] for e in erased["data"]] == ["(erased)"]
    assert erased["data"][0]["actor_key_id"] is None and erased["data"][0]["surface"] == "cli"
    by_key = api_env.get(
        "/api/v1/audit", "admin", params={"key_id": _key_id(rt, "test-analyst")}
    ).json()
    assert [e["action"] for e in by_key["data"]] == ["client.view"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert api_env.get("/api/v1/audit", "admin", params={"since": later}).json()["count"] == 0
    assert api_env.get("/api/v1/audit", "admin", params={"client": "NOPE"}).status_code == 404
    assert api_env.get("/api/v1/audit", "admin", params={"action": "x"}).status_code == 422
    # each look at the trail is itself in the trail, naming the client filtered on
    views = audit.list_events(rt, action=AuditAction.AUDIT_VIEW).data
    assert len(views) == 4 and {v.client for v in views} == {"CA-001", None}


def test_console_audit_page_for_admins(api_env: ApiEnv) -> None:
    client = api_env.client
    assert api_env.get("/api/v1/clients/CA-001", "librarian").status_code == 200
    sign_in(client, api_env.keys["admin"])
    page = client.get("/console/audit", params={"client": "CA-001"})
    assert page.status_code == 200
    assert 'href="/console/clients/CA-001"' in page.text and "查看用户档案" in page.text
    assert 'href="/console/audit"' in page.text  # the admin's nav link
    assert "style=" not in page.text.split("<main", 1)[1]
    sign_in(client, api_env.keys["librarian"])
    assert client.get("/console/audit").status_code == 403
    assert 'href="/console/audit"' not in client.get("/console/").text


# -- retention and the command line ---------------------------------------------------------


def test_prune_removes_only_events_past_retention(api_env: ApiEnv) -> None:
    rt = api_env.runtime
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with rt.db.session() as s:
        for days in (10, 729, 731, 2000):
            s.add(
                AuditEvent(
                    occurred_at=now - dt.timedelta(days=days),
                    action="search",
                    surface="cli",
                    target=f"d{days}",
                )
            )
    assert rt.settings.audit_retention_days == 730
    assert audit.prune(rt, now=now) == 2
    assert sorted(e.target for e in audit.list_events(rt).data) == ["d10", "d729"]  # type: ignore[type-var]
    keep_all = Runtime(rt.settings.model_copy(update={"audit_retention_days": 0}), rt.db)
    assert audit.prune(keep_all, now=now + dt.timedelta(days=5000)) == 0



def test_cli_import_list_and_prune(cli_env: ApiEnv, tmp_path: Any) -> None:
    runner = CliRunner()
    upload = tmp_path / "clients.csv"
    upload.write_text("external_id,kind,name_zh\nCLI-1,enterprise,命令行测试公司\n", "utf-8")
    done = runner.invoke(cli_app, ["import", str(upload)])
    assert done.exit_code == 0, done.output
    assert cli_env.get("/api/v1/clients/CA-001", "librarian").status_code == 200
    (imported,) = audit.list_events(cli_env.runtime, action=AuditAction.IMPORT).data
    assert imported.surface == "cli" and imported.actor_key_id is None
    assert imported.target == "clients" and imported.detail == {
        "rows": 1,
        "inserted": 1,
        "updated": 0,
        "dry_run": False,
    }
    listed = runner.invoke(cli_app, ["audit", "list", "--client", "CA-001", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["action"], r["client"], r["actor_role"]) for r in rows] == [
        ("client.view", "CA-001", "librarian")
    ]
    table = runner.invoke(cli_app, ["audit", "list", "--action", "import", "--limit", "5"])
    assert table.exit_code == 0 and "(1 of 1)" in table.output
    bad = runner.invoke(cli_app, ["audit", "list", "--since", "yesterday"])
    assert bad.exit_code != 0
    pruned = runner.invoke(cli_app, ["audit", "prune"])
    assert pruned.exit_code == 0 and "pruned 0" in pruned.output
    assert audit.list_events(cli_env.runtime, action=AuditAction.AUDIT_VIEW).count == 2


def test_listing_and_prune_on_both_stores(any_db: Database, settings: Settings) -> None:
    """Filters, the erased-client join, newest-first order and retention, on SQLite and
    PostgreSQL alike."""
    rt = Runtime(settings, any_db, serves=False)
    with any_db.session() as s:
        client = Client(external_id="DB-1", name_zh="某某公司", kind="enterprise")
        s.add(client)
        s.flush()
        cid = client.id
    audit.record(rt, None, AuditAction.CLIENT_VIEW, surface=AuditSurface.CLI, client_id=cid)
    audit.record(rt, None, AuditAction.CLIENT_ERASE, surface=AuditSurface.CLI, client_id=cid + 99)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.audit_retention_days + 1)
    with any_db.session() as s:
        s.add(AuditEvent(occurred_at=old, action="search", surface="cli", target="clients"))
    page = audit.list_events(rt)
    assert [(e.action, e.client) for e in page.data] == [
        ("client.erase", "(erased)"),
        ("client.view", "DB-1"),
        ("search", None),
    ]
    assert all(e.occurred_at.tzinfo is not None for e in page.data)
    assert audit.list_events(rt, client_id=cid).count == 1
    assert audit.list_events(rt, until=old + dt.timedelta(seconds=1)).count == 1
    assert audit.prune(rt) == 1
    assert audit.list_events(rt).count == 2
