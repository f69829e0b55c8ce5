"""Every timestamp in an API response carries an offset (UTC), also on SQLite, whose
store hands back naive datetimes: complaint times in a client profile, job times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from api.schemas import as_utc
from recsvc.store.enums import JobStatus, Severity
from recsvc.store.models import Client, Complaint, TrainingJob
from tests.fixtures_api import ApiEnv


def _parsed(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.utcoffset() == dt.timedelta(0), value
    assert value.endswith("+00:00"), value
    return parsed


def test_complaint_timestamps_in_a_profile_carry_utc_offsets(api_env: ApiEnv) -> None:
    with api_env.runtime.db.session() as s:
        client_id = s.scalar(select(Client.id).where(Client.external_id == "CA-001"))
        s.add(
            Complaint(
                external_id="Q-1",
                client_id=client_id,
                severity=Severity.SERIOUS,
                opened_at=dt.datetime(2025, 4, 1, 9, 30),
                responded_at=dt.datetime(2025, 4, 1, 15, 0, tzinfo=dt.UTC),
                resolved_at=None,
            )
        )
    resp = api_env.get("/api/v1/clients/CA-001", "librarian")
    assert resp.status_code == 200, resp.text
    (complaint,) = resp.json()["complaints"]
    assert _parsed(complaint["opened_at"]) == dt.datetime(2025, 4, 1, 9, 30, tzinfo=dt.UTC)
    assert _parsed(complaint["responded_at"]).hour == 15
    assert complaint["resolved_at"] is None


def test_job_timestamps_carry_utc_offsets(api_env: ApiEnv) -> None:
    with api_env.runtime.db.session() as s:
        s.add(
            TrainingJob(
                id="job-ts",
                status=JobStatus.SUCCEEDED,
                progress=1.0,
                requested_by="test",
                started_at=dt.datetime(2025, 5, 2, 8, 0),
                finished_at=dt.datetime(2025, 5, 2, 8, 5),
            )
        )
    resp = api_env.get("/api/v1/jobs/job-ts", "analyst")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert _parsed(body["started_at"]) == dt.datetime(2025, 5, 2, 8, 0, tzinfo=dt.UTC)
    assert _parsed(body["finished_at"]) - _parsed(body["started_at"]) == dt.timedelta(minutes=5)


def test_as_utc_converts_aware_and_assumes_utc_for_naive() -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    assert as_utc(dt.datetime(2025, 1, 1, 8, tzinfo=beijing)) == dt.datetime(
        2025, 1, 1, 0, tzinfo=dt.UTC
    )
    assert as_utc(dt.datetime(2025, 1, 1, 8)).tzinfo is dt.UTC


def test_schema_declares_timestamps_as_date_time(api_env: ApiEnv) -> None:
    schemas = api_env.client.get("/openapi.json").json()["components"]["schemas"]
    complaint = schemas.get("ComplaintPublic") or schemas["ComplaintPublic-Output"]
    assert complaint["properties"]["opened_at"]["format"] == "date-time"
