"""Property-based run of schemathesis over the OpenAPI schema, with response
conformance on: no input gives a 5xx, every status a route answers is declared, every
body matches its declared schema and content type, and every error is a problem
document.

Staff operations run with the admin key, ``/me`` operations with a portal token.
Examples per operation are few (``MAX_EXAMPLES``) and derandomised, so the run is
short and repeatable.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures_api import ApiEnv

MAX_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _check(case: Any, env: ApiEnv, failures: list[str]) -> None:
    who = "portal" if case.path.startswith("/api/v1/me/") else "admin"
    where = f"{case.method} {case.formatted_path}"
    try:
        resp = case.call_and_validate(headers=env.headers(who), checks=CHECKS, timeout=300)
    except (AssertionError, BaseExceptionGroup) as exc:  # failed checks: collect them all
        found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
        failures.extend(f"{where}: {str(e).strip()[:400]}" for e in found)
        return
    if resp.status_code >= 400:
        ctype = resp.headers.get("content-type", [""])
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        body = resp.json() if ctype.startswith("application/problem+json") else {}
        if body.get("status") != resp.status_code or not body.get("type"):
            failures.append(f"{where} → {resp.status_code} is not a problem document")


def test_schema_conformance(api_demo: ApiEnv) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_demo.client.app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            _check(case, api_demo, failures)

        run()
    distinct = sorted(set(failures))
    assert not distinct, f"{len(distinct)} failures:\n" + "\n".join(distinct[:60])
