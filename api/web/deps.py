"""Plumbing shared by every console page: the runtime, the signed-in user,
CSRF tokens, role checks and rendering.

The session (a cookie signed with ``settings.secret_key`` by Starlette's
``SessionMiddleware``) holds only the signed-in key's id and a per-sign-in nonce sealed
with that key's stored hash, plus the interface language and the CSRF token; never the
key, its role or its client. Every request re-reads the key from the store (through the
runtime's key cache, a few seconds), so the console and the API share one
:class:`~recsvc.auth.Principal` and a forged or stale cookie opens nothing. Role checks
are ``Principal.allowed``, as in the API.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.ratelimit import AuthLimiter
from api.web.i18n import DEFAULT_LANG, LANGS, Translator
from recsvc.auth import STAFF_ROLES, Principal
from recsvc.errors import Forbidden, RecsvcError, Unauthorized
from recsvc.runtime import Runtime
from recsvc.store.enums import Role
from recsvc.usecases import access, open_runtime

__all__ = [
    "CSRF_FIELD",
    "CsrfDep",
    "CsrfRejected",
    "LoginRequired",
    "RuntimeDep",
    "Staff",
    "UserDep",
    "csrf_token",
    "get_runtime",
    "records_outcomes",
    "render",
    "require",
    "safe_next",
    "sees_personal_data",
]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
CSRF_FIELD = "csrf_token"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


class LoginRequired(RecsvcError):
    """No one is signed in: console pages redirect to the sign-in form."""

    status = 401
    title = "Sign-in required"


class CsrfRejected(Forbidden):
    """A POST without the session's CSRF token."""

    title = "CSRF token missing or wrong"


def sees_personal_data(user: Principal) -> bool:
    """Contacts are shown to librarians (and so admins) only (docs/architecture.md)."""
    return user.allowed(Role.LIBRARIAN)


def records_outcomes(user: Principal) -> bool:
    """Librarians (and so admins) record accepted / declined / purchased outcomes."""
    return user.allowed(Role.LIBRARIAN)


templates.env.globals.update(
    Role=Role, sees_personal_data=sees_personal_data, records_outcomes=records_outcomes
)


def get_runtime(request: Request) -> Runtime:
    """The app's one :class:`Runtime` (opened by ``create_app``; opened here if absent)."""
    state = request.app.state
    parent = getattr(state, "parent", None)
    runtime = getattr(parent.state, "runtime", None) if parent is not None else None
    if runtime is None:
        runtime = getattr(state, "runtime", None)
    if runtime is None:
        runtime = open_runtime(state.settings)
        state.runtime = runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def auth_limiter(request: Request) -> AuthLimiter | None:
    """The API app's failed-authentication limiter (shared with the console), if any."""
    parent = getattr(request.app.state, "parent", None)
    limiter: AuthLimiter | None = getattr(parent.state, "auth_limiter", None) if parent else None
    return limiter


#: The session entry of a signed-in user: ``{"key_id": int, "nonce": str}``.
SESSION_AUTH = "auth"


def session_user(request: Request) -> Principal | None:
    """The signed-in user, read from the key store now (cached a few seconds), or None.

    A session whose key was revoked, rotated or deleted, whose nonce is not the one
    sign-in made, or that is malformed (an older release's cookie) is dropped.
    """
    if hasattr(request.state, "user"):
        user: Principal | None = request.state.user
        return user
    raw = request.session.get(SESSION_AUTH)
    user = None
    if isinstance(raw, dict) and isinstance(raw.get("key_id"), int):
        try:
            user = access.session_principal(
                get_runtime(request), key_id=raw["key_id"], nonce=str(raw.get("nonce", ""))
            )
        except Unauthorized:
            user = None
    if user is None:
        for stale in (SESSION_AUTH, "user"):
            request.session.pop(stale, None)
    request.state.user = user
    return user


def sign_in(request: Request, user: Principal, nonce: str) -> None:
    """Start a fresh session for ``user`` (new CSRF token; the language is kept).

    The session keeps the key's id and the sign-in's nonce only (see the module doc).
    """
    lang = request.session.get("lang")
    request.session.clear()
    request.session[SESSION_AUTH] = {"key_id": user.key_id, "nonce": nonce}
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    if lang:
        request.session["lang"] = lang
    request.state.user = user


def current_user(request: Request) -> Principal:
    """The signed-in user; :class:`LoginRequired` (a redirect) when there is none or
    when the key the session was opened with has since been revoked or rotated."""
    user = session_user(request)
    if user is None:
        raise LoginRequired("please sign in")
    return user


UserDep = Annotated[Principal, Depends(current_user)]


def require(*roles: Role) -> Any:
    """A dependency that admits only ``roles`` (403 page otherwise)."""

    def _check(user: UserDep) -> Principal:
        if not user.allowed(*roles):
            raise Forbidden(f"the {user.role} role may not open this page")
        return user

    return Depends(_check)


#: Any staff member (librarian, analyst, admin); portal tokens get a 403 page.
Staff = Annotated[Principal, require(*STAFF_ROLES)]


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


def check_csrf(request: Request, csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> None:
    """Refuse a POST whose form (or ``X-CSRF-Token`` header) lacks this session's token."""
    expected = request.session.get(CSRF_FIELD)
    given = csrf_token_ or request.headers.get("x-csrf-token", "")
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise CsrfRejected("the form was stale or forged; reload the page and try again")


CsrfDep = Depends(check_csrf)


def language(request: Request) -> str:
    """The interface language of this session."""
    lang = request.session.get("lang")
    return lang if lang in LANGS else DEFAULT_LANG


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path inside the console, else ``default`` (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def prefix(request: Request) -> str:
    """Where the console is mounted (``/console``)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render ``template`` with the labels, user, CSRF token and URLs every page needs."""
    lang = language(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx: dict[str, Any] = {
        "t": Translator(lang),
        "lang": lang,
        "user": session_user(request),
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(request),
        "P": prefix(request),
        "here": here,
        "here_q": quote(here, safe=""),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status)
