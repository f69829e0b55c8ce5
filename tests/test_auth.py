"""API keys: creation, hashing, verification, revocation, rotation."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from recsvc.auth import (
    Principal,
    create_key,
    generate_secret,
    hash_secret,
    list_keys,
    revoke_key,
    rotate_key,
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
    with pytest.raises(Unauthorized, match="revoked"):
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
