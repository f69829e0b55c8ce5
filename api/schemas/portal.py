"""Bodies of the client portal: the events a portal records (impressions, outcomes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from recsvc.store.enums import (
    DeclineReason,
    EventType,
    Surface,
)


class PortalEventCreate(BaseModel):
    """A portal event: an impression of a recommended item, or an outcome of one."""

    event: Literal["impression", "accepted", "declined", "purchased"]
    item_code: str | None = Field(None, max_length=64, description="Required for impressions")
    impression_id: int | None = Field(
        None, ge=1, le=2**62, description="Required for outcomes: the impression they answer"
    )
    rank: int | None = Field(None, ge=1, le=1000)
    reason: DeclineReason | None = None


class PortalEventsCreate(BaseModel):
    events: list[PortalEventCreate] = Field(min_length=1, max_length=100)


class EventPublic(BaseModel):
    id: int
    event: EventType
    item_code: str
    impression_id: int | None = None
    surface: Surface
    model_version: str | None = None


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int
