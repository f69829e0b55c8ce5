"""Fixtures for the API tests: an app over a small store with one key per role.

- ``api_env`` (per test): a tiny hand-made store (two clients, A and B), no model. Fast;
  for auth, errors, profiles, events.
- ``api_demo_bundle`` (session): the small demo dataset, its semantic index (built with
  the deterministic ``FakeEmbedder``) and a model trained ONCE by
  ``training.pipeline.train``; ``api_demo`` (per test) hands out a copy of all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from recsvc.auth import create_key
from recsvc.config import Settings
from recsvc.semantic import FakeEmbedder
from recsvc.services import Services
from recsvc.store.enums import ClientKind, Purpose, Role
from recsvc.store.models import Client, Commission, Contact
from tests.conftest import make_settings

#: The principals every matrix test uses; ``None`` means no key at all.
PRINCIPALS: tuple[str | None, ...] = ("librarian", "analyst", "admin", "portal", None)


@dataclass
class ApiEnv:
    """An app, its services and a secret per principal."""

    settings: Settings
    services: Services
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)
    """``"A"``/``"B"`` → the external ids the portal tokens are bound to."""

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    def get(self, path: str, who: str | None = None, **kw: Any) -> Any:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def post(self, path: str, who: str | None = None, **kw: Any) -> Any:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)


def make_keys(services: Services, client_a: str, client_b: str) -> dict[str, str]:
    """One key per staff role, a portal token for client A (``portal``) and for B."""
    keys = {}
    for role in (Role.LIBRARIAN, Role.ANALYST, Role.ADMIN):
        keys[role.value] = create_key(services.db, f"test-{role.value}", role)[1]
    keys["portal"] = create_key(services.db, "test-portal-a", Role.PORTAL, client_a)[1]
    keys["portal_b"] = create_key(services.db, "test-portal-b", Role.PORTAL, client_b)[1]
    return keys


def _seed_two_clients(services: Services) -> None:
    with services.db.session() as s:
        for ext, name, title in (
            ("CA-001", "甲生物科技有限公司", "猪瘟疫苗佐剂的制备方法"),
            ("CB-002", "乙环保工程有限公司", "农村污水MBBR处理工艺"),
        ):
            c = Client(
                external_id=ext,
                name_zh=name,
                name_en=None,
                kind=ClientKind.ENTERPRISE,
                industry_field="biotech" if ext == "CA-001" else "environment",
                account_manager="王老师",
            )
            s.add(c)
            s.flush()
            s.add(
                Contact(
                    external_id=f"P-{ext}",
                    client_id=c.id,
                    name="张三",
                    email=f"{ext.lower()}@example.com",
                    phone="13800000000",
                )
            )
            s.add(
                Commission(
                    external_id=f"K-{ext}",
                    client_id=c.id,
                    title_zh=title,
                    purpose=Purpose.PROJECT_APPROVAL,
                    fee=3000.0,
                    commissioned_on=dt.date(2025, 3, 1),
                )
            )


@pytest.fixture
def api_env(tmp_path: Path) -> Iterator[ApiEnv]:
    """An app over a two-client store and no model, with keys for every role."""
    settings = make_settings(tmp_path)
    services = Services.build(settings, embedder=FakeEmbedder())
    _seed_two_clients(services)
    keys = make_keys(services, "CA-001", "CB-002")
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
        yield ApiEnv(settings, services, client, keys, {"A": "CA-001", "B": "CB-002"})
    services.close()
