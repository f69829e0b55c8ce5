"""Failed authentications are limited per client address and per key prefix, with a
lockout (429 + Retry-After problem, a metric); other addresses and the right key are
not affected; the lockout ends. A hand-moved clock stands in for waiting."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.ratelimit import AuthLimiter
from recsvc.config import Settings
from recsvc.store import Database
from tests.conftest import make_settings
from tests.fixtures_web import Keys, csrf_of, make_keys, populate_small_store

N = 3
LOCKOUT = 300.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_locks_on_the_nth_failure_in_the_window_and_unlocks() -> None:
    clock = Clock()
    lockouts: list[str] = []
    lim = AuthLimiter(failures=3, window=60, lockout=300, clock=clock, on_lockout=lockouts.append)
    assert [lim.failed("addr:a") for _ in range(3)] == [False, False, True]
    assert lim.locked_for("addr:a") == 300 and lim.locked_for("addr:b") == 0
    assert lockouts == ["addr"]
    clock.now += 299
    assert lim.locked_for("addr:a") == pytest.approx(1)
    clock.now += 1
    assert lim.locked_for("addr:a") == 0
    # failures spread wider than the window never lock
    for _ in range(5):
        assert not lim.failed("addr:c")
        assert not lim.failed("addr:c")
        clock.now += 61


def test_limiter_memory_is_bounded() -> None:
    clock = Clock()
    lim = AuthLimiter(failures=3, window=60, lockout=300, clock=clock, max_tracked=100)
    for i in range(1000):
        lim.failed(f"addr:{i}")
    assert len(lim._seen) <= 100


@pytest.fixture
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, Keys, Clock]]:
    """The app over the small store, locking on the 3rd failure, with a hand clock."""
    from api.app import create_app

    settings: Settings = make_settings(
        tmp_path_factory.mktemp("ratelimit"),
        auth_max_failures=N,
        auth_failure_window_seconds=60,
        auth_lockout_seconds=LOCKOUT,
    )
    db = Database.from_settings(settings)
    db.upgrade()
    populate_small_store(db)
    keys = make_keys(db, "C001")
    app = create_app(settings)
    clock = Clock()
    app.state.auth_limiter.clock = clock
    yield app, keys, clock
    db.dispose()


def _client(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", client=(address, 40000))


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_api_locks_an_address_out_after_n_failures(limited: tuple[FastAPI, Keys, Clock]) -> None:
    app, keys, clock = limited
    attacker, colleague = _client(app, "10.0.0.66"), _client(app, "10.0.0.7")
    statuses = [
        attacker.get("/api/v1/clients", headers=_bearer(f"rck_guess{i:040d}")).status_code
        for i in range(N + 2)
    ]
    assert statuses == [401] * (N - 1) + [429] * 3
    locked = attacker.get("/api/v1/clients", headers={"X-API-Key": keys.librarian})
    assert locked.status_code == 429  # even the right key, from the locked address
    assert locked.headers["content-type"].startswith("application/problem+json")
    body = locked.json()
    assert body["status"] == 429 and body["type"].endswith("/toomanyrequests")
    assert 0 < int(locked.headers["retry-after"]) <= LOCKOUT
    # another address is not affected
    assert colleague.get("/api/v1/clients", headers=_bearer(keys.librarian)).status_code == 200
    assert colleague.get("/api/v1/clients", headers=_bearer("rck_wrong")).status_code == 401
    # the lockout ends
    clock.now += LOCKOUT
    assert attacker.get("/api/v1/clients", headers=_bearer(keys.librarian)).status_code == 200
    metrics = attacker.get("/metrics").text
    assert 'recsvc_auth_failures_total{surface="api"} 4.0' in metrics
    assert 'recsvc_auth_lockouts_total{scope="addr"} 1.0' in metrics


def test_api_locks_a_key_prefix_across_addresses_but_not_its_owner(
    limited: tuple[FastAPI, Keys, Clock],
) -> None:
    app, keys, _ = limited
    prefix = keys.admin[:12]
    for i in range(N):
        guess = prefix + f"{i:031d}"
        status = _client(app, f"10.1.0.{i}").get("/api/v1/clients", headers=_bearer(guess))
        assert status.status_code == (429 if i == N - 1 else 401)
    # a fourth address guessing under that prefix is refused at once
    resp = _client(app, "10.1.0.99").get("/api/v1/clients", headers=_bearer(prefix + "x" * 31))
    assert resp.status_code == 429 and "retry-after" in resp.headers
    # the key's owner still gets in, from an address of their own
    owner = _client(app, "10.2.0.1").get("/api/v1/clients", headers=_bearer(keys.admin))
    assert owner.status_code == 200
    metrics = _client(app, "10.2.0.1").get("/metrics").text
    assert 'recsvc_auth_lockouts_total{scope="prefix"} 1.0' in metrics
    assert 'recsvc_auth_lockouts_total{scope="addr"}' not in metrics


def test_missing_key_is_not_counted(limited: tuple[FastAPI, Keys, Clock]) -> None:
    app, keys, _ = limited
    client = _client(app, "10.3.0.1")
    for _ in range(N + 2):
        assert client.get("/api/v1/clients").status_code == 401
    assert client.get("/api/v1/clients", headers=_bearer(keys.librarian)).status_code == 200


def _sign_in(client: TestClient, key: str) -> int:
    page = client.get("/console/login")
    resp = client.post(
        "/console/login",
        data={"key": key, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    if resp.status_code == 429:
        assert int(resp.headers["retry-after"]) > 0
        assert "登录失败次数过多" in resp.text
    return resp.status_code


def test_console_sign_in_is_limited_too(limited: tuple[FastAPI, Keys, Clock]) -> None:
    app, keys, clock = limited
    attacker, colleague = _client(app, "10.4.0.66"), _client(app, "10.4.0.7")
    statuses = [_sign_in(attacker, f"rck_guess{i:040d}") for i in range(N + 1)]
    assert statuses == [401] * (N - 1) + [429, 429]
    assert _sign_in(attacker, keys.librarian) == 429
    assert _sign_in(colleague, keys.librarian) == 303
    # the API shares the count: the address is locked there as well
    locked = attacker.get("/api/v1/clients", headers=_bearer(keys.librarian))
    assert locked.status_code == 429
    clock.now += LOCKOUT
    assert _sign_in(attacker, keys.librarian) == 303
    metrics = attacker.get("/metrics").text
    assert f'recsvc_auth_failures_total{{surface="console"}} {N}.0' in metrics
