"""API keys: creation, hashing, verification, revocation, rotation."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, update

from recsvc.auth import (
    INVALID_KEY,
    KeyCache,
    Principal,
    create_key,
    generate_secret,
    hash_secret,
    list_keys,
    revoke_key,
    rotate_key,
    session_nonce,
    verify_key,
)
from recsvc.errors import Conflict, InvalidInput, NotFound, Unauthorized
from recsvc.store import Database
from recsvc.store.enums import ClientKind, Role
from recsvc.store.models import ApiKey, Client


def _client(db: Database, external_id: str = "C1") -> int:
    with db.session() as s:
        c = Client(external_id=external_id, kind=ClientKind.ENTERPRISE, name_zh="甲公司")
        s.add(c)
        s.flush()
        return c.id


def test_secret_is_high_entropy_and_tagged() -> None:
    a, b = generate_secret(Role.LIBRARIAN), generate_secret(Role.PORTAL)
    assert a.startswith("rck_") and b.startswith("rcp_")
    assert len(a) >= 40 and a != generate_secret(Role.LIBRARIAN)
    assert hash_secret(a) == hashlib.sha256(a.encode()).hexdigest()


def test_only_the_hash_is_stored(db: Database) -> None:
    info, secret = create_key(db, "alice", Role.LIBRARIAN)
    with db.session() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.name == "alice"))
    assert row is not None
    assert row.key_hash == hash_secret(secret) and secret not in row.key_hash
    assert row.prefix == info.prefix and secret.startswith(info.prefix)


def test_verify_roundtrip_and_unknown(db: Database) -> None:
    _, secret = create_key(db, "bob", "analyst")
    p = verify_key(db, secret)
    assert isinstance(p, Principal) and p.role is Role.ANALYST and p.client_id is None
    for bad in (None, "", secret + "x", "rck_" + "a" * 43):
        with pytest.raises(Unauthorized):
            verify_key(db, bad)


def test_portal_token_is_bound_to_one_client(db: Database) -> None:
    cid = _client(db)
    _, secret = create_key(db, "portal-c1", Role.PORTAL, "C1")
    p = verify_key(db, secret)
    assert p.is_portal and p.client_id == cid and p.client_external_id == "C1"
    with pytest.raises(InvalidInput):
        create_key(db, "portal-none", Role.PORTAL)
    with pytest.raises(InvalidInput):
        create_key(db, "lib-bound", Role.LIBRARIAN, "C1")
    with pytest.raises(NotFound):
        create_key(db, "portal-x", Role.PORTAL, "NOPE")


def test_duplicate_name_conflicts(db: Database) -> None:
    create_key(db, "carol", Role.ADMIN)
    with pytest.raises(Conflict):
        create_key(db, "carol", Role.ADMIN)


def test_revoke_and_rotate(db: Database) -> None:
    _, secret = create_key(db, "dave", Role.LIBRARIAN)
    revoke_key(db, "dave")
    with pytest.raises(Unauthorized):
        verify_key(db, secret)
    _, fresh = rotate_key(db, "dave")
    assert verify_key(db, fresh).name == "dave"
    with pytest.raises(Unauthorized):
        verify_key(db, secret)
    with pytest.raises(NotFound):
        revoke_key(db, "nobody")
    listed = {k.name: k for k in list_keys(db)}
    assert listed["dave"].active and listed["dave"].role is Role.LIBRARIAN


@pytest.mark.parametrize(
    ("role", "needs", "ok"),
    [
        (Role.LIBRARIAN, (Role.LIBRARIAN,), True),
        (Role.ANALYST, (Role.LIBRARIAN,), False),
        (Role.ADMIN, (Role.LIBRARIAN,), True),
        (Role.ADMIN, (Role.ANALYST,), True),
        (Role.ADMIN, (Role.PORTAL,), False),
        (Role.PORTAL, (Role.LIBRARIAN, Role.ANALYST), False),
        (Role.PORTAL, (Role.PORTAL,), True),
    ],
)
def test_principal_allowed(role: Role, needs: tuple[Role, ...], ok: bool) -> None:
    p = Principal(key_id=1, name="k", prefix="rck_x", role=role)
    assert p.allowed(*needs) is ok


def test_unknown_and_revoked_keys_get_one_message(db: Database) -> None:
    """A caller cannot tell a revoked key from one that never existed."""
    _, secret = create_key(db, "erin", Role.LIBRARIAN)
    revoke_key(db, "erin")
    messages = set()
    for bad in (secret, "rck_" + "a" * 43, secret[:12] + "x" * 31):
        with pytest.raises(Unauthorized) as err:
            verify_key(db, bad)
        messages.add(err.value.detail)
    assert messages == {INVALID_KEY}
    assert "revoked" not in INVALID_KEY


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_key_cache_session_rereads_the_key_after_its_seconds(db: Database) -> None:
    _, secret = create_key(db, "fay", Role.ANALYST)
    clock = _Clock()
    cache = KeyCache(db, seconds=3.0, clock=clock)
    key_id = cache.principal(secret).key_id
    nonce = session_nonce(secret)
    assert cache.session(key_id, nonce).role is Role.ANALYST
    with db.session() as s:
        s.execute(update(ApiKey).where(ApiKey.id == key_id).values(role=Role.LIBRARIAN))
    clock.now = 2.9
    assert cache.session(key_id, nonce).role is Role.ANALYST  # cached: lags by < 3 s
    clock.now = 3.0
    assert cache.session(key_id, nonce).role is Role.LIBRARIAN
    revoke_key(db, "fay")
    clock.now = 6.0
    with pytest.raises(Unauthorized):
        cache.session(key_id, nonce)


def test_session_nonce_is_sealed_with_the_current_secret(db: Database) -> None:
    _, secret = create_key(db, "gus", Role.ADMIN)
    cache = KeyCache(db, seconds=0.0)
    key_id = cache.principal(secret).key_id
    nonce = session_nonce(secret)
    assert nonce != session_nonce(secret)
    assert cache.session(key_id, nonce).name == "gus"
    random_part = nonce.split(".")[0]
    for forged in ("", random_part, f"{random_part}.{'0' * 32}", "x.y"):
        with pytest.raises(Unauthorized):
            cache.session(key_id, forged)
    with pytest.raises(Unauthorized):
        cache.session(key_id + 100, nonce)
    _, fresh = rotate_key(db, "gus")
    with pytest.raises(Unauthorized):
        cache.session(key_id, nonce)
    assert cache.session(key_id, session_nonce(fresh)).name == "gus"
