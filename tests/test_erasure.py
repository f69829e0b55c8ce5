"""Erasure: after ``DELETE /api/v1/clients/{id}`` a client's external id, names and
commission titles are found nowhere (store, every search kind and scope, portal lists,
serving files, caches, model folders, other clients' explanations), its vectors have
left every index, every call about it answers 404, and a record names nobody.

One module-scoped demo (240 clients, a trained version) is erased once; the tests
read what it left.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recsvc.recommend import OFFERS, reasons
from recsvc.semantic import FakeEmbedder, Scope, SemanticLayer
from recsvc.semantic.text import text_hash
from recsvc.store.enums import Surface
from recsvc.usecases import access
from tests.conftest import tree_digest
from tests.fixtures_api import ApiEnv, demo_env, open_demo


@dataclass
class Erased:
    """The demo after erasing one client, and what it held of that client before."""

    env: ApiEnv
    client_id: int
    external_id: str
    names: list[str]
    titles: list[str]
    """Its commission titles that no other client shares (a shared title is the other
    client's data too, and stays)."""
    commission_ids: set[int]
    case_ids: set[str]
    texts: list[str]
    sizes: dict[str, int]
    cited_by: dict[str, set[str]]
    """Other clients whose live explanations cited one of its cases, with those cases."""
    quotes: set[str]
    models_before: dict[str, str]
    response: Any = None
    other_lists_citing: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _quoted(doc: Any) -> str:
    """The English sentence an explanation makes of a case document (its topic makes
    it the case's own: one without is told by kind and field only, as others are)."""
    zh = str(doc.meta.get("summary_zh") or doc.summary)
    return reasons.similar_case(zh, doc.summary, None, 0.0).text_en


def _victim(env: ApiEnv, db_path: Path) -> int:
    """A client with a portal list whose anonymised cases the most other clients'
    stored explanations quote, and whose name no other client has (the demo has
    namesakes: two clients can share a research group's name, and erasing one must
    not hide the other)."""
    layer = env.runtime.semantic
    bundle = env.runtime.require_bundle()
    unique = {
        int(cid)
        for (cid,) in _rows(
            db_path,
            "select min(id) from clients group by coalesce(name_zh, external_id) "
            "having count(*) = 1",
        )
    }
    by_owner: dict[int, set[str]] = {}
    for doc in layer.docs["cases"].values():
        if "project on" in _quoted(doc):
            by_owner.setdefault(int(doc.client_id), set()).add(_quoted(doc))
    quoted: dict[int, int] = dict.fromkeys(by_owner, 0)
    for cid in bundle.portal_recs:
        _, body = bundle.portal_recs[cid]
        text = body.decode()
        for owner, quotes in by_owner.items():
            if owner != cid and any(q in text for q in quotes):
                quoted[owner] += 1
    candidates = [c for c in quoted if c in bundle.portal_recs and c in unique]
    return max(candidates, key=lambda c: quoted[c])


def _rows(db_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db_path)
    try:
        return list(con.execute(sql, args))
    finally:
        con.close()


@pytest.fixture(scope="module")
def erased(api_demo_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Erased]:
    settings, runtime = open_demo(api_demo_bundle, tmp_path_factory.mktemp("erasure"))
    for env in demo_env(settings, runtime):
        db_path = Path(settings.database_url.split("///", 1)[1])
        cid = _victim(env, db_path)
        (ext, zh, en), *_ = _rows(
            db_path, "select external_id, name_zh, name_en from clients where id = ?", cid
        )
        own = {
            t
            for r in _rows(
                db_path, "select title_zh, title_en from commissions where client_id = ?", cid
            )
            for t in r
            if t
        }
        others = {
            t
            for r in _rows(
                db_path, "select title_zh, title_en from commissions where client_id != ?", cid
            )
            for t in r
            if t
        }
        layer = runtime.semantic
        docs = {
            kind: [d for d in layer.docs[kind].values() if d.client_id == cid]
            for kind in ("clients", "commissions", "cases")
        }
        case_ids = {str(d.key) for d in docs["cases"]}
        # other clients whose live explanations cite one of its cases (by case id)
        cited_by: dict[str, set[str]] = {}
        for other in list(runtime.require_bundle().portal_recs)[:80]:
            if other == cid:
                continue
            recs = runtime.require_bundle().recommender.recommend(other, Surface.LIBRARIAN, 5)
            refs = {e.ref for r in recs for e in r.evidence if e.kind == "similar_case"}
            if refs & case_ids:
                cited_by[str(other)] = refs & case_ids
        state = Erased(
            env=env,
            client_id=cid,
            external_id=ext,
            names=[n for n in (zh, en) if n],
            titles=sorted(own - others),
            commission_ids={int(d.key) for d in docs["commissions"]},
            case_ids=case_ids,
            texts=[d.text for kind in docs for d in docs[kind]],
            sizes={kind: len(layer.dense[kind]) for kind in docs},
            cited_by=cited_by,
            quotes={_quoted(d) for d in docs["cases"] if "project on" in _quoted(d)},
            models_before=tree_digest([settings.models_dir]),
        )
        # a portal token bound to the client, used once (so the key cache holds it)
        env.keys["victim"] = access.create_key(
            runtime, name="portal-of-the-erased", role="portal", client_external_id=ext
        )[1]
        assert env.get("/api/v1/me/recommendations", "victim").status_code == 200
        before = env.get("/api/v1/worklist", "librarian", params={"limit": 5000}).text
        state.extra["in_worklist"] = ext in before
        state.extra["frames_copies"] = sorted(Path(settings.serving_dir).glob("*/snapshot.pkl"))
        state.response = env.client.delete(
            f"/api/v1/clients/{ext}",
            params={"reason": "written erasure request, ticket 2026-118"},
            headers=env.headers("admin"),
        )
        yield state


def test_the_erasure_is_answered_and_recorded_without_personal_data(erased: Erased) -> None:
    resp = erased.response
    assert resp.status_code == 200, resp.text
    counts = resp.json()["counts"]
    assert counts["rows.clients"] == 1 and counts["rows.commissions"] == len(erased.commission_ids)
    assert counts["index.commissions"] == len(erased.commission_ids) > 0
    assert counts["index.cases"] == len(erased.case_ids) > 0
    assert counts["serving.portal_lists"] == 1 and counts["cache.vectors"] > 0
    listed = erased.env.get("/api/v1/erasures", "admin")
    assert listed.status_code == 200
    (record,) = listed.json()["data"]
    assert record["client_id"] == erased.client_id and record["actor_role"] == "admin"
    assert record["actor_key_id"] is not None and record["reason"].startswith("written")
    assert record["erased_at"].endswith(("+00:00", "Z"))
    dumped = json.dumps(record, ensure_ascii=False)
    for s in [erased.external_id, *erased.names, *erased.titles]:
        assert s not in dumped
    trail = erased.env.get("/api/v1/audit?action=client.erase", "admin")
    assert trail.status_code == 200, trail.text
    (event,) = trail.json()["data"]
    assert event["client"] == "(erased)" and event["actor_role"] == "admin"
    assert event["surface"] == "api" and event["actor_key_id"] == record["actor_key_id"]


def _calls(ext: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("GET", f"/api/v1/clients/{ext}", {}),
        ("GET", f"/api/v1/clients/{ext}/recommendations", {}),
        ("GET", f"/api/v1/clients/{ext}/similar", {}),
        ("DELETE", f"/api/v1/clients/{ext}", {"params": {"reason": "again"}}),
    ]


def test_every_call_about_the_client_answers_404(erased: Erased) -> None:
    env = erased.env
    for method, url, kw in _calls(erased.external_id):
        who = "admin" if method == "DELETE" else "librarian"
        resp = env.client.request(method, url, headers=env.headers(who), **kw)
        assert resp.status_code == 404, (url, resp.text)
        assert resp.json()["type"].endswith("/notfound")
    listed = env.get("/api/v1/clients", "librarian", params={"q": erased.external_id})
    assert listed.status_code == 200 and listed.json()["count"] == 0
    assert erased.extra["in_worklist"]
    for fmt in ("json", "csv"):
        worklist = env.get("/api/v1/worklist", "librarian", params={"limit": 5000, "format": fmt})
        assert worklist.status_code == 200 and erased.external_id not in worklist.text
        assert not [n for n in erased.names if n in worklist.text]


def test_its_portal_token_no_longer_opens_anything(erased: Erased) -> None:
    env = erased.env
    assert env.get("/api/v1/me/recommendations", "victim").status_code == 401
    events = env.post("/api/v1/me/events", "victim", json=env.portal_event())
    assert events.status_code == 401
    assert env.get("/api/v1/me/recommendations", "portal").status_code == 200  # others' work


def test_no_search_of_any_kind_or_scope_finds_it(erased: Erased) -> None:
    env, layer = erased.env, erased.env.runtime.semantic
    other = next(c for c in env.runtime.require_bundle().portal_recs if c != erased.client_id)
    probes = [*erased.titles[:8], *erased.names]
    for q in probes:
        for kind in ("commissions", "clients", "cases", "products"):
            resp = env.get("/api/v1/search", "librarian", params={"q": q, "kind": kind, "k": 50})
            assert resp.status_code == 200, resp.text
            hits = json.dumps(resp.json()["data"], ensure_ascii=False)  # (not the echoed query)
            assert erased.external_id not in hits
            found = [t for t in erased.titles + erased.names if t in hits]
            assert not found, (q, kind, found)
            assert not {h["id"] for h in resp.json()["data"]} & erased.case_ids
        for kind in ("cases", "products"):
            hits = layer.search(q, kind, k=50, scope=Scope.portal(other))
            assert not {str(h.id) for h in hits} & erased.case_ids
            assert not any(h.meta.get("client_id") == erased.client_id for h in hits)
        cases = layer.similar_cases(q, 50)
        assert not {str(h.id) for h in cases} & erased.case_ids
    ext_other = env.clients["B"]
    similar = env.get(f"/api/v1/clients/{ext_other}/similar", "librarian", params={"k": 50})
    assert similar.status_code == 200 and erased.external_id not in similar.text
    ids, _ = layer.similar_clients(other, k=len(layer.dense["clients"]))
    assert erased.client_id not in ids.tolist()


def test_its_vectors_left_every_index_in_memory_and_on_disk(erased: Erased) -> None:
    settings = erased.env.settings
    for layer in (
        erased.env.runtime.semantic,
        SemanticLayer.load(settings, FakeEmbedder()),  # what every other process reads
    ):
        dense = layer.dense
        assert erased.client_id not in dense["clients"]
        assert len(dense["clients"]) == erased.sizes["clients"] - 1
        assert len(dense["commissions"]) == erased.sizes["commissions"] - len(erased.commission_ids)
        assert len(dense["cases"]) == erased.sizes["cases"] - len(erased.case_ids)
        assert not set(dense["commissions"].ids()) & erased.commission_ids
        assert not {str(k) for k in dense["cases"].ids()} & erased.case_ids
        for kind in ("clients", "commissions", "cases"):
            assert dense[kind].raw.ntotal == len(dense[kind])  # no vector left behind
            assert not any(d.client_id == erased.client_id for d in layer.docs[kind].values())
    # the version's text space keeps its model; its commission vectors are serving files
    version = erased.env.runtime.require_bundle().version
    assert not list((Path(settings.models_dir) / version).rglob("commission_ids.npy"))
    (ids_file,) = Path(settings.serving_dir, version).rglob("commission_ids.npy")
    assert not set(np.load(ids_file).tolist()) & erased.commission_ids
    assert erased.response.json()["counts"]["serving.text_vectors"] == len(erased.commission_ids)
    hashes = [text_hash(t) for t in erased.texts]
    cached = b"".join(p.read_bytes() for p in Path(settings.cache_dir).rglob("*.keys.json"))
    assert cached and not any(h.encode() in cached for h in hashes)


def test_no_stored_explanation_quotes_its_cases(erased: Erased) -> None:
    rt = erased.env.runtime
    bundle = rt.require_bundle()
    assert erased.client_id not in bundle.portal_recs
    assert erased.quotes
    for cid in bundle.portal_recs:
        _, body = bundle.portal_recs[cid]
        offers = OFFERS.validate_json(body)
        texts = {e.text_en for o in offers for e in o.evidence} | {
            r for o in offers for r in o.reasons_en
        }
        assert not texts & erased.quotes, cid
    assert erased.cited_by, "some live explanation cited one of its cases before"
    for other in erased.cited_by:
        recs = bundle.recommender.recommend(int(other), Surface.LIBRARIAN, 5)
        refs = {e.ref for r in recs for e in r.evidence if e.kind == "similar_case"}
        assert not refs & erased.case_ids
        assert all(r.evidence for r in recs)


def test_its_strings_are_in_no_file_and_no_table(erased: Erased) -> None:
    settings = erased.env.settings
    needles = [erased.external_id, *erased.names, *erased.titles]
    assert len(erased.titles) >= 5
    roots = [Path(settings.data_dir), Path(settings.models_dir)]
    files = [p for root in roots for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files) and any(p.name == "lists.bin" for p in files)
    for path in files:
        data = path.read_bytes()
        found = [n for n in needles if n.encode() in data]
        assert not found, (str(path), found[:3])
    con = sqlite3.connect(Path(settings.database_url.split("///", 1)[1]))
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert not [n for n in needles if n in dump]


def test_the_saved_copy_of_the_store_is_deleted(erased: Erased) -> None:
    """Training saved the frames it read (a server of the same store loads them instead
    of reading it); they hold the client's rows, so the erasure deletes them."""
    assert erased.extra["frames_copies"], "training saved no copy of the store"
    assert not [p for p in erased.extra["frames_copies"] if p.exists()]


def test_registered_versions_were_not_written(erased: Erased) -> None:
    assert tree_digest([erased.env.settings.models_dir]) == erased.models_before


def test_erasing_asks_an_admin_a_reason_and_a_known_client(erased: Erased) -> None:
    env = erased.env
    ext = env.clients["B"]
    for who in ("librarian", "analyst", "portal"):
        resp = env.client.delete(
            f"/api/v1/clients/{ext}", params={"reason": "x"}, headers=env.headers(who)
        )
        assert resp.status_code == 403, (who, resp.text)
    assert env.client.delete(f"/api/v1/clients/{ext}", params={"reason": "x"}).status_code == 401
    missing = env.client.delete(f"/api/v1/clients/{ext}", headers=env.headers("admin"))
    assert missing.status_code == 422
    blank = env.client.delete(
        f"/api/v1/clients/{ext}", params={"reason": "   "}, headers=env.headers("admin")
    )
    assert blank.status_code == 422 and blank.json()["type"].endswith("/invalidinput")
    unknown = env.client.delete(
        "/api/v1/clients/NO-SUCH-CLIENT", params={"reason": "x"}, headers=env.headers("admin")
    )
    assert unknown.status_code == 404
    assert env.get(f"/api/v1/clients/{ext}", "librarian").status_code == 200  # B is still there
