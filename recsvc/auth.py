"""API keys and portal tokens: generation, hashing, verification, revocation.

A key is a high-entropy secret shown once at creation; the store keeps only its
SHA-256 hash and a short ``prefix`` that identifies it in listings and logs. Staff
keys carry a role (librarian, analyst, admin); a portal token has the ``portal``
role and is bound to exactly one client.

Used by the API (``Authorization: Bearer`` / ``X-API-Key``), the CLI
(``recsvc keys create|list|revoke``) and the web console's sign-in.

A console session remembers only a key id and a *session nonce*: a per-sign-in random
value sealed with the key's stored hash (:func:`session_nonce`). Each request re-reads
the key by id (:meth:`KeyCache.session`), so a revoked key, a changed role or a rotated
secret take effect within the cache's few seconds, and a cookie forged with the app's
secret still lacks the seal, which needs the key's hash from the store.

Example:
    >>> from recsvc.store import Database
    >>> db = Database.from_url("sqlite://"); db.upgrade()
    >>> info, secret = create_key(db, "alice", Role.LIBRARIAN)
    >>> verify_key(db, secret).role
    <Role.LIBRARIAN: 'librarian'>
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from recsvc.errors import Conflict, InvalidInput, NotFound, Unauthorized
from recsvc.store import queries
from recsvc.store.db import Database
from recsvc.store.enums import Role
from recsvc.store.models import ApiKey

__all__ = [
    "INVALID_KEY",
    "STAFF_ROLES",
    "KeyCache",
    "KeyInfo",
    "Principal",
    "create_key",
    "generate_secret",
    "hash_secret",
    "list_keys",
    "revoke_key",
    "rotate_key",
    "session_nonce",
    "verify_key",
]

#: Roles that belong to the centre's staff (not bound to a client).
STAFF_ROLES = frozenset({Role.LIBRARIAN, Role.ANALYST, Role.ADMIN})

_SECRET_TAG = {Role.PORTAL: "rcp"}
_STAFF_TAG = "rck"
_PREFIX_LEN = 12
#: The one answer for a key that is unknown, revoked or malformed: a caller must not
#: learn which (a revoked key's holder knows it was revoked).
INVALID_KEY = "invalid API key (unknown or no longer valid)"


def generate_secret(role: Role) -> str:
    """A new secret: a tag (``rck_`` staff, ``rcp_`` portal) plus 256 random bits."""
    tag = _SECRET_TAG.get(role, _STAFF_TAG)
    return f"{tag}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """The stored form of a secret: hex SHA-256 (the secret has 256 bits of entropy)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name and role, and the bound client for portal tokens."""

    key_id: int
    name: str
    prefix: str
    role: Role
    client_id: int | None = None
    client_external_id: str | None = None

    @property
    def is_portal(self) -> bool:
        return self.role is Role.PORTAL

    def allowed(self, *roles: Role) -> bool:
        """Whether this principal may use something open to ``roles`` (admin may do all
        staff work; portal work needs a portal token)."""
        if self.role in roles:
            return True
        return self.role is Role.ADMIN and any(r in STAFF_ROLES for r in roles)


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed: never the secret, never the hash."""

    name: str
    prefix: str
    role: Role
    client_external_id: str | None
    created_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _info(key: ApiKey, client_external_id: str | None) -> KeyInfo:
    return KeyInfo(
        name=key.name,
        prefix=key.prefix,
        role=Role(key.role),
        client_external_id=client_external_id,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def create_key(
    db: Database, name: str, role: Role | str, client_external_id: str | None = None
) -> tuple[KeyInfo, str]:
    """Create a key and return its listing and the secret (shown once, never stored).

    Raises:
        InvalidInput: a portal token without a client, or a staff key with one.
        NotFound: the client does not exist.
        Conflict: a key of that name exists.
    """
    role = Role(role)
    name = name.strip()
    if not name:
        raise InvalidInput("a key needs a name")
    if role is Role.PORTAL and not client_external_id:
        raise InvalidInput("a portal token must be bound to a client (--client)")
    if role is not Role.PORTAL and client_external_id:
        raise InvalidInput("only portal tokens are bound to a client")
    secret = generate_secret(role)
    client_id = None
    if client_external_id:
        client_id = queries.client_id(db, external_id=client_external_id)
        if client_id is None:
            raise NotFound(f"no client {client_external_id!r}")
    with db.session() as s:
        if queries.key_named(s, name=name) is not None:
            raise Conflict(f"a key named {name!r} already exists")
        key = ApiKey(
            name=name,
            prefix=secret[:_PREFIX_LEN],
            key_hash=hash_secret(secret),
            role=role,
            client_id=client_id,
        )
        s.add(key)
        s.flush()
        s.refresh(key)
        info = _info(key, client_external_id)
    return info, secret


def _principal(key: ApiKey, client_external_id: str | None) -> Principal:
    return Principal(
        key_id=key.id,
        name=key.name,
        prefix=key.prefix,
        role=Role(key.role),
        client_id=key.client_id,
        client_external_id=client_external_id,
    )


def verify_key(db: Database, secret: str | None) -> Principal:
    """The principal for ``secret``.

    Raises:
        Unauthorized: no secret, or one that is unknown or revoked (one message for
            both, :data:`INVALID_KEY`).
    """
    if not secret:
        raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
    digest = hash_secret(secret)
    for key, client_external_id in queries.keys_with_prefix(db, prefix=secret[:_PREFIX_LEN]):
        if hmac.compare_digest(key.key_hash, digest) and key.revoked_at is None:
            return _principal(key, client_external_id)
    raise Unauthorized(INVALID_KEY)


def _seal(key_hash: str, nonce: str) -> str:
    return hmac.new(key_hash.encode(), nonce.encode(), hashlib.sha256).hexdigest()[:32]


def session_nonce(secret: str) -> str:
    """A fresh session nonce for a sign-in with ``secret``: 128 random bits plus a seal
    made with the key's stored hash, so it stays valid only while the key keeps that
    secret (rotation ends the session) and cannot be made without the store."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_seal(hash_secret(secret), nonce)}"


class KeyCache:
    """Keys verified in the last few seconds, by secret (API calls) and by id (console
    sessions); revocation, role changes and rotation lag by ``seconds`` at most.

    Keyed by the key's hash or id; plaintext secrets are not kept. One per process;
    ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        db: Database,
        *,
        seconds: float = 5.0,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.seconds = seconds
        self.size = size
        self.clock = clock
        self._seen: dict[str, tuple[float, Principal]] = {}
        self._by_id: dict[int, tuple[float, tuple[Principal, str] | None]] = {}

    def principal(self, secret: str | None) -> Principal:
        """The principal for ``secret`` (see :func:`verify_key`)."""
        if not secret:
            return verify_key(self.db, secret)
        digest = hash_secret(secret)
        now = self.clock()
        hit = self._seen.get(digest)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        principal = verify_key(self.db, secret)
        if len(self._seen) > self.size:
            self._seen.clear()
        self._seen[digest] = (now, principal)
        return principal

    def session(self, key_id: int, nonce: str) -> Principal:
        """The principal of a console session: the key ``key_id`` as the store has it
        now (cached briefly), if it is active and ``nonce`` was sealed with its current
        secret (:func:`session_nonce`).

        Raises:
            Unauthorized: the key is gone, revoked or rotated, or the nonce is forged.
        """
        now = self.clock()
        hit = self._by_id.get(key_id)
        if hit is None or now - hit[0] >= self.seconds:
            row = queries.key_by_id(self.db, key_id=key_id)
            found = None
            if row is not None and row[0].revoked_at is None:
                found = (_principal(*row), row[0].key_hash)
            if len(self._by_id) > self.size:
                self._by_id.clear()
            hit = self._by_id[key_id] = (now, found)
        nonce_part, _, seal = nonce.partition(".")
        if hit[1] is None or not hmac.compare_digest(_seal(hit[1][1], nonce_part), seal):
            raise Unauthorized("this session's key is no longer valid; please sign in again")
        return hit[1][0]

    def forget(self) -> None:
        """Drop every cached answer (this process revoked or rotated a key)."""
        self._seen.clear()
        self._by_id.clear()


def list_keys(db: Database) -> list[KeyInfo]:
    """Every key, active and revoked, oldest first."""
    return [_info(k, ext) for k, ext in queries.keys(db)]


def _key_named(s: Session, name: str) -> tuple[ApiKey, str | None]:
    """The key called ``name`` and its bound client's external id, or NotFound."""
    row = queries.key_named(s, name=name)
    if row is None:
        raise NotFound(f"no key named {name!r}")
    return row


def revoke_key(db: Database, name: str) -> KeyInfo:
    """Revoke a key by name (idempotent).

    Raises:
        NotFound: no key of that name.
    """
    with db.session() as s:
        key, ext = _key_named(s, name)
        if key.revoked_at is None:
            key.revoked_at = dt.datetime.now(dt.UTC)
        s.flush()
        return _info(key, ext)


def rotate_key(db: Database, name: str) -> tuple[KeyInfo, str]:
    """Give an existing key a new secret (same name, role and client; un-revokes it).

    Raises:
        NotFound: no key of that name.
    """
    with db.session() as s:
        key, ext = _key_named(s, name)
        secret = generate_secret(Role(key.role))
        key.prefix = secret[:_PREFIX_LEN]
        key.key_hash = hash_secret(secret)
        key.revoked_at = None
        s.flush()
        return _info(key, ext), secret
