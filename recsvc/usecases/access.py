"""Who may call: API keys and portal tokens — verify (cached per process), create,
list, rotate and revoke; and whether a console session's key is still valid."""

from __future__ import annotations

from recsvc import auth
from recsvc.auth import KeyInfo, Principal
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.enums import Role

__all__ = [
    "authenticate",
    "create_key",
    "key_is_active",
    "list_keys",
    "revoke_key",
    "rotate_key",
]


def authenticate(rt: Runtime, *, secret: str | None) -> Principal:
    """The principal for a key (cached for a few seconds; revocation lags by that).

    Raises:
        Unauthorized: no key, an unknown one, or a revoked one.
    """
    return rt.keys.principal(secret)


def key_is_active(rt: Runtime, *, key_id: int) -> bool:
    """Whether a key still exists and is not revoked (read now, not cached)."""
    return queries.key_is_active(rt.db, key_id=key_id)


def create_key(
    rt: Runtime, *, name: str, role: Role | str, client_external_id: str | None = None
) -> tuple[KeyInfo, str]:
    """A new key (and its secret, shown once); portal tokens are bound to a client."""
    return auth.create_key(rt.db, name, role, client_external_id)


def list_keys(rt: Runtime) -> list[KeyInfo]:
    """Every key, active and revoked, oldest first."""
    return auth.list_keys(rt.db)


def revoke_key(rt: Runtime, *, name: str) -> KeyInfo:
    """Revoke the key called ``name``."""
    return auth.revoke_key(rt.db, name)


def rotate_key(rt: Runtime, *, name: str) -> tuple[KeyInfo, str]:
    """Give the key called ``name`` a new secret (same name, role and client)."""
    return auth.rotate_key(rt.db, name)
