"""Sign-in, sign-out and the language switch.

Staff sign in with the same API keys the JSON API accepts (``access.authenticate``).
A portal token may sign in too, but it lands on the portal preview of its own client
and every other console page answers 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.ratelimit import authenticate_limited
from api.web.deps import (
    CsrfDep,
    RuntimeDep,
    auth_limiter,
    language,
    prefix,
    render,
    safe_next,
    session_user,
    sign_in,
)
from api.web.i18n import LANGS
from recsvc.auth import Principal
from recsvc.errors import TooManyRequests, Unauthorized
from recsvc.usecases import access

__all__ = ["router"]

router = APIRouter()


def home(request: Request, user: Principal) -> str:
    """Where a user lands after signing in."""
    if user.is_portal:
        return f"{prefix(request)}/portal/{user.client_external_id}"
    return f"{prefix(request)}/"


@router.get("/login", name="login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (already signed in: go home)."""
    user = session_user(request)
    if user is not None:
        return RedirectResponse(home(request, user), 303)
    return render(request, "login.html", {"next": next or "", "error": None})


@router.post("/login", dependencies=[CsrfDep])
def login(
    request: Request,
    rt: RuntimeDep,
    key: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the key and start a session; a wrong key re-shows the form with 401, too
    many wrong keys from this address with 429 (:mod:`api.ratelimit`)."""
    try:
        principal, nonce = authenticate_limited(
            auth_limiter(request),
            request,
            key.strip() or None,
            lambda s: access.open_session(rt, secret=s),
            surface="console",
        )
    except TooManyRequests as exc:
        page = render(request, "login.html", {"next": next, "error": "login.locked"}, status=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except Unauthorized:
        return render(request, "login.html", {"next": next, "error": "login.error"}, status=401)
    sign_in(request, principal, nonce)
    landing = home(request, principal)
    target = landing if principal.is_portal else safe_next(next, landing)
    return RedirectResponse(target, 303)


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request) -> Response:
    """End the session (the language choice survives)."""
    lang = language(request)
    request.session.clear()
    request.session["lang"] = lang
    request.state.user = None
    return RedirectResponse(f"{prefix(request)}/login", 303)


@router.post("/lang", dependencies=[CsrfDep])
def switch_language(
    request: Request,
    lang: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Switch the interface language and go back to the page the form was on."""
    if lang in LANGS:
        request.session["lang"] = lang
    return RedirectResponse(safe_next(next, f"{prefix(request)}/"), 303)
