"""Plumbing shared by every console page: the runtime, the signed-in user,
CSRF tokens, role checks and rendering.

The session (a cookie signed with ``settings.secret_key`` by Starlette's
``SessionMiddleware``) holds who signed in (the fields of the API's
:class:`~recsvc.auth.Principal`: the key's id, name, listing prefix, role and, for
portal tokens, the bound client), the interface language and the per-session CSRF
token; never the key itself. Role checks are ``Principal.allowed``, as in the API.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.web.i18n import DEFAULT_LANG, LANGS, Translator
from recsvc.auth import STAFF_ROLES, Principal
from recsvc.errors import Forbidden, RecsvcError
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


def principal_from(raw: Any) -> Principal | None:
    """The :class:`Principal` a session remembers, or None when ``raw`` is not one (a
    cookie from an older release, with a field missing or a role unknown)."""
    if not isinstance(raw, dict):
        return None
    try:
        return Principal(**{**raw, "role": Role(raw["role"])})
    except (KeyError, TypeError, ValueError):
        return None


def session_user(request: Request) -> Principal | None:
    """The signed-in user, or None (a stale session entry is dropped)."""
    user = principal_from(request.session.get("user"))
    if user is None:
        request.session.pop("user", None)
    return user


def sign_in(request: Request, user: Principal) -> None:
    """Start a fresh session for ``user`` (new CSRF token; the language is kept).

    The session keeps the principal's fields (who, which role, which client), never
    the key itself.
    """
    lang = request.session.get("lang")
    request.session.clear()
    request.session["user"] = {**asdict(user), "role": user.role.value}
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    if lang:
        request.session["lang"] = lang


def current_user(request: Request, rt: RuntimeDep) -> Principal:
    """The signed-in user; :class:`LoginRequired` (a redirect) when there is none or
    when the key the session was opened with has since been revoked."""
    user = session_user(request)
    if user is None:
        raise LoginRequired("please sign in")
    if not access.key_is_active(rt, key_id=user.key_id):
        request.session.pop("user", None)
        raise LoginRequired("the key of this session was revoked")
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
