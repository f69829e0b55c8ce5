"""The OpenAPI document, with every error response declared as what it is: an RFC 9457
problem document (``application/problem+json``, schema :class:`~api.schemas.ProblemPublic`).

FastAPI declares only 200 and its own 422 shape (``HTTPValidationError`` as
``application/json``), which is not what the API sends. :func:`install` rewrites the
generated document once, by one rule set, so a client generator or schemathesis'
response-conformance checks see the statuses the API really answers:

* operations that need a key: 401 (no or invalid key), 403 (role), 429 (locked out
  after failed authentications), 503 (model or index not ready);
* every ``/api/v1`` operation: 404 (unknown client, version, job, impression, product);
* operations with parameters or a body: 422 (invalid input, with ``errors``);
* writes (POST, PUT, PATCH, DELETE): 409 (state forbids it), 413 (body too large).

A status a route declares itself with a body schema (``/readyz`` 503) is kept as is.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from api.errors import PROBLEM_MEDIA_TYPE
from api.schemas import ProblemPublic

__all__ = ["install"]

_DESCRIPTIONS = {
    "401": "No API key, or an unknown or revoked one",
    "403": "The key's role may not do this",
    "404": "Not found",
    "409": "Conflict: the current state forbids it",
    "413": "The request body is too large",
    "422": "Invalid input; `errors` names each field and reason",
    "429": "Too many failed authentications: locked out (see Retry-After)",
    "503": "A model or index this needs is not ready",
}
_WRITES = {"post", "put", "patch", "delete"}
_REF = "#/components/schemas/ProblemPublic"


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    statuses: set[str] = set()
    if path.startswith("/api/"):
        statuses.add("404")
    if operation.get("security"):
        statuses |= {"401", "403", "429", "503"}
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add("422")
    if method in _WRITES:
        statuses |= {"409", "413"}
    return statuses


def _add_problem_schema(doc: dict[str, Any]) -> None:
    schema = ProblemPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components["ProblemPublic"] = schema
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with problem responses declared (see the module doc)."""
    doc = copy.deepcopy(FastAPI.openapi(app))
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = {s for s in responses if s[:1] in "45"}
            for status in sorted(_statuses(path, method, operation) | declared):
                existing = responses.get(status, {})
                content = existing.get("content", {})
                if status != "422" and any(c.get("schema") for c in content.values()):
                    continue  # the route declared its own body for this status
                own = existing.get("description") if status != "422" else None
                responses[status] = {
                    "description": own or _DESCRIPTIONS.get(status, "Error"),
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF}}},
                }
            operation["responses"] = dict(sorted(responses.items()))
    _add_problem_schema(doc)
    return doc


def install(app: FastAPI) -> None:
    """Serve :func:`problem_openapi` at ``app.openapi_url`` (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if getattr(app.state, "problem_openapi", None) is None:
            app.state.problem_openapi = problem_openapi(app)
        doc: dict[str, Any] = app.state.problem_openapi
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
