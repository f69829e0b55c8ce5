"""Bodies of the analyst surface: imports, training jobs, model versions, reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import FROM_ATTRIBUTES, UtcDateTime
from recsvc.store.enums import (
    JobStatus,
)


class ImportReportPublic(BaseModel):
    entity: str
    source: str
    inserted: int
    updated: int
    unchanged: int
    dry_run: bool = False


class ImportReportsPublic(BaseModel):
    data: list[ImportReportPublic]
    count: int


class JobPublic(BaseModel):
    model_config = FROM_ATTRIBUTES

    id: str
    status: JobStatus
    progress: float
    message: str | None = None
    requested_by: str | None = None
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    result: dict[str, Any] | None = None


class ModelVersionPublic(BaseModel):
    version: str
    active: bool
    created: str | None = None
    metrics: dict[str, Any] = {}
    value_model: str = Field(
        "lightgbm", description="The value model it serves: `lightgbm` or `logistic`"
    )


class ModelVersionsPublic(BaseModel):
    active: str | None
    serving: str | None = Field(None, description="The version this process serves now")
    data: list[ModelVersionPublic]
    count: int


class EvaluationReportPublic(BaseModel):
    version: str
    metrics: dict[str, Any]
    meta: dict[str, Any] = {}
    plots: list[str] = Field(default_factory=list, description="URLs of the report's plots")
