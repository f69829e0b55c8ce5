"""Request and response bodies of the JSON API, one module per surface: :mod:`.common`
(timestamps, problems, health), :mod:`.clients` (the staff surface), :mod:`.portal`,
:mod:`.analyst`. Import them from here.

Naming follows one pattern: ``ThingBase`` (shared fields), ``ThingCreate`` (a request
body), ``ThingPublic`` (one item out), ``ThingsPublic`` (``{data, count}``).

Every timestamp is a :data:`UtcDateTime`: it always carries an offset (the stores hand
back naive UTC datetimes on SQLite; they are read as UTC and written ``+00:00``).

The recommendations body and its items (one :class:`~recsvc.recommend.offer.Offer`
shape from the recommender to the wire) are defined with the use case that answers
them, so the CLI prints the same JSON.
"""

from __future__ import annotations

from api.schemas.analyst import (
    EvaluationReportPublic,
    ImportReportPublic,
    ImportReportsPublic,
    JobPublic,
    ModelVersionPublic,
    ModelVersionsPublic,
)
from api.schemas.clients import (
    ClientBase,
    ClientProfilePublic,
    ClientPublic,
    ClientsPublic,
    ClvPublic,
    CommissionPublic,
    ComplaintPublic,
    ContactPublic,
    FeedbackCreate,
    FeedbackPublic,
    InteractionPublic,
    OrderPublic,
    ReasonPublic,
    ScorePublic,
    SearchHitPublic,
    SearchHitsPublic,
    SimilarClientPublic,
    SimilarClientsPublic,
    WorklistPublic,
    WorklistRowPublic,
)
from api.schemas.common import (
    HealthPublic,
    ProblemItemPublic,
    ProblemPublic,
    ReadyPublic,
    UtcDateTime,
    as_utc,
)
from api.schemas.portal import (
    EventPublic,
    EventsPublic,
    PortalEventCreate,
    PortalEventsCreate,
)
from recsvc.usecases.portal import PortalOfferPublic, PortalPublic
from recsvc.usecases.recommendations import ActionPublic, RecommendationsPublic

__all__ = [
    "ActionPublic",
    "ClientBase",
    "ClientProfilePublic",
    "ClientPublic",
    "ClientsPublic",
    "ClvPublic",
    "CommissionPublic",
    "ComplaintPublic",
    "ContactPublic",
    "EvaluationReportPublic",
    "EventPublic",
    "EventsPublic",
    "FeedbackCreate",
    "FeedbackPublic",
    "HealthPublic",
    "ImportReportPublic",
    "ImportReportsPublic",
    "InteractionPublic",
    "JobPublic",
    "ModelVersionPublic",
    "ModelVersionsPublic",
    "OrderPublic",
    "PortalEventCreate",
    "PortalEventsCreate",
    "PortalOfferPublic",
    "PortalPublic",
    "ProblemItemPublic",
    "ProblemPublic",
    "ReadyPublic",
    "ReasonPublic",
    "RecommendationsPublic",
    "ScorePublic",
    "SearchHitPublic",
    "SearchHitsPublic",
    "SimilarClientPublic",
    "SimilarClientsPublic",
    "UtcDateTime",
    "WorklistPublic",
    "WorklistRowPublic",
    "as_utc",
]
