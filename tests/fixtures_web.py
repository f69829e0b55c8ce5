"""Fixtures for the web console: keys of every role, a signed-in test client, and a
live server (uvicorn in a thread) driving Debian's Chromium through Playwright.

The live server runs against a copy of the small demo store with a model trained once
per session by the real training pipeline (``training.pipeline.train``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from recsvc.auth import create_key
from recsvc.config import Settings
from recsvc.store import Database
from recsvc.store.enums import ClientKind, Role
from recsvc.store.models import Client, Commission, Contact

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Keys:
    """One secret per role, the portal token bound to client ``C001``."""

    librarian: str
    analyst: str
    admin: str
    portal: str
    portal_client: str = "C001"


def make_keys(db: Database, portal_client: str) -> Keys:
    """Create a key of every role in ``db``."""
    return Keys(
        librarian=create_key(db, "lib-wang", Role.LIBRARIAN)[1],
        analyst=create_key(db, "ana-li", Role.ANALYST)[1],
        admin=create_key(db, "adm-zhao", Role.ADMIN)[1],
        portal=create_key(db, "portal-c", Role.PORTAL, portal_client)[1],
        portal_client=portal_client,
    )


def csrf_of(html: str) -> str:
    """The CSRF token embedded in a rendered page."""
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, secret: str) -> TestClient:
    """Sign ``client`` in through the form, as a person would."""
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"key": secret, "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text
    return client


@pytest.fixture
def small_store(db: Database) -> Database:
    """A migrated store with two clients, a contact and two commissions (no model)."""
    with db.session() as s:
        a = Client(
            external_id="C001",
            name_zh="华东生物疫苗有限公司",
            name_en="East China Bio-Vaccine Co.",
            kind=ClientKind.ENTERPRISE,
            industry_field="农业",
            account_manager="王老师",
        )
        b = Client(
            external_id="C002",
            name_zh="城南环保科技",
            name_en="Chengnan Environmental",
            kind=ClientKind.ENTERPRISE,
            industry_field="环保",
            account_manager="李老师",
        )
        s.add_all([a, b])
        s.flush()
        s.add(Contact(external_id="P1", client_id=a.id, name="张三", phone="13800000000"))
        s.add_all(
            [
                Commission(
                    external_id="K1",
                    client_id=a.id,
                    title_zh="猪瘟疫苗佐剂研究",
                    title_en="Adjuvants for swine fever vaccines",
                    commissioned_on=dt.date(2024, 3, 1),
                ),
                Commission(
                    external_id="K2",
                    client_id=b.id,
                    title_zh="农村污水 MBBR 工艺",
                    title_en="MBBR for village sewage",
                    commissioned_on=dt.date(2024, 5, 1),
                ),
            ]
        )
    return db


@pytest.fixture
def web_keys(small_store: Database) -> Keys:
    return make_keys(small_store, "C001")


@pytest.fixture
def web_app(settings: Settings, small_store: Database) -> Iterator[TestClient]:
    """The whole app (API + console) over the small store, not signed in."""
    from api.app import create_app

    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client
