"""Who may call: API keys and portal tokens — verify (cached per process), create,
list, rotate and revoke; and console sessions, which hold only a key id and a nonce
and are re-read from the key store on every request."""

from __future__ import annotations

from recsvc import auth
from recsvc.auth import KeyInfo, Principal
from recsvc.runtime import Runtime
from recsvc.store.enums import Role

__all__ = [
    "authenticate",
    "create_key",
    "list_keys",
    "open_session",
    "revoke_key",
    "rotate_key",
    "session_principal",
]


def authenticate(rt: Runtime, *, secret: str | None) -> Principal:
    """The principal for a key (cached for a few seconds; revocation lags by that).

    Raises:
        Unauthorized: no key, or an unknown or revoked one (one message for both).
    """
    return rt.keys.principal(secret)


def open_session(rt: Runtime, *, secret: str | None) -> tuple[Principal, str]:
    """Sign in with a key: its principal and a fresh session nonce (the console keeps
    only ``principal.key_id`` and the nonce, never the key or its role).

    Raises:
        Unauthorized: as :func:`authenticate`.
    """
    principal = authenticate(rt, secret=secret)
    assert secret is not None  # authenticate refuses an empty one
    return principal, auth.session_nonce(secret)


def session_principal(rt: Runtime, *, key_id: int, nonce: str) -> Principal:
    """The principal of a console session, as the key store has it now (cached for a
    few seconds): role and client are never taken from the session itself.

    Raises:
        Unauthorized: the key was revoked, rotated or deleted, or the nonce is forged.
    """
    return rt.keys.session(key_id, nonce)


def create_key(
    rt: Runtime, *, name: str, role: Role | str, client_external_id: str | None = None
) -> tuple[KeyInfo, str]:
    """A new key (and its secret, shown once); portal tokens are bound to a client."""
    return auth.create_key(rt.db, name, role, client_external_id)


def list_keys(rt: Runtime) -> list[KeyInfo]:
    """Every key, active and revoked, oldest first."""
    return auth.list_keys(rt.db)


def revoke_key(rt: Runtime, *, name: str) -> KeyInfo:
    """Revoke the key called ``name`` (at once in this process, within the key cache's
    few seconds in others)."""
    info = auth.revoke_key(rt.db, name)
    rt.keys.forget()
    return info


def rotate_key(rt: Runtime, *, name: str) -> tuple[KeyInfo, str]:
    """Give the key called ``name`` a new secret (same name, role and client); sessions
    opened with the old secret end."""
    rotated = auth.rotate_key(rt.db, name)
    rt.keys.forget()
    return rotated
