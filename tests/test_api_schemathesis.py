"""Property-based run of schemathesis over the OpenAPI schema: no input gives a 5xx,
and every error is a problem document.

Staff operations run with the admin key, ``/me`` operations with a portal token.
Examples per operation are few (``MAX_EXAMPLES``) and derandomised, so the run is
short and repeatable.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.fixtures_api import ApiEnv

MAX_EXAMPLES = 10


def _check(case: Any, env: ApiEnv, failures: list[str]) -> None:
    who = "portal" if case.path.startswith("/api/v1/me/") else "admin"
    resp = case.call(headers=env.headers(who), timeout=300)
    where = f"{case.method} {case.formatted_path}"
    if resp.status_code >= 500:
        failures.append(f"{where} → {resp.status_code}: {resp.text[:300]}")
    elif resp.status_code >= 400:
        ctype = resp.headers.get("content-type", [""])
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        body = resp.json() if ctype.startswith("application/problem+json") else {}
        if body.get("status") != resp.status_code or not body.get("type"):
            failures.append(f"{where} → {resp.status_code} is not a problem document")


def test_no_server_errors(api_demo: ApiEnv) -> None:
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
    assert not failures, "\n".join(failures[:20])
