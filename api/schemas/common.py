"""What every surface shares: UTC timestamps, problem documents, health and readiness."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

#: Model config of bodies read straight from ORM rows (``model_validate(row)``).
FROM_ATTRIBUTES = ConfigDict(from_attributes=True)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC; a naive value is taken to be UTC already (what the store keeps)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


#: A timestamp in a response: always timezone-aware UTC, written with an explicit
#: ``+00:00`` offset (RFC 3339 ``date-time``, as the OpenAPI schema declares).
UtcDateTime = Annotated[
    dt.datetime,
    AfterValidator(as_utc),
    PlainSerializer(lambda v: as_utc(v).isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ProblemItemPublic(BaseModel):
    """One located problem in a 422 (or an import's report): which file, row, field, why."""

    reason: str
    field: str | None = None
    row: int | None = None
    file: str | None = None


class ProblemPublic(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``): every error the API
    answers has this shape (``api/errors.py``)."""

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="The request path")
    errors: list[ProblemItemPublic] | None = Field(None, description="Field-level problems")


class HealthPublic(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyPublic(BaseModel):
    status: Literal["ready", "degraded", "unavailable"]
    database: bool
    model_loaded: bool
    model_version: str | None = None
    model_error: str | None = Field(None, description="Why the active model failed to load")
    worker: int = Field(description="Process id of the server worker that answered")
