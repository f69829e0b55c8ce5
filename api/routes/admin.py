"""Admin work: erase a client (and everything derived from it), list the erasures.
Open to admin keys only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.deps import API_PREFIX, RuntimeDep, require
from api.schemas import UtcDateTime
from recsvc.auth import Principal
from recsvc.store.enums import Role
from recsvc.usecases import erasure
from recsvc.usecases.audit import AuditSurface

router = APIRouter(prefix=API_PREFIX, tags=["admin"])

AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]


class ErasurePublic(BaseModel):
    """A client erased: the record kept of it (no personal data)."""

    erasure_id: int
    counts: dict[str, int] = Field(
        description="Rows (``rows.*``), index entries (``index.*``), cached vectors "
        "(``cache.vectors``) and serving-file entries (``serving.*``) removed"
    )


class ErasureRecordPublic(BaseModel):
    """One erasure as recorded: who, when, why, how many; the client only by its
    former internal id."""

    id: int
    erased_at: UtcDateTime
    client_id: int
    actor_key_id: int | None
    actor_role: str | None
    reason: str
    counts: dict[str, Any]


class ErasuresPublic(BaseModel):
    data: list[ErasureRecordPublic]
    count: int


@router.delete(
    "/clients/{external_id}",
    response_model=ErasurePublic,
    summary="Erase a client",
    responses={404: {"description": "No such client"}},
)
def erase_client(
    principal: AdminDep,
    rt: RuntimeDep,
    external_id: Annotated[str, Path(min_length=1, max_length=64)],
    reason: Annotated[
        str,
        Query(
            min_length=1,
            max_length=erasure.MAX_REASON,
            description="Why (recorded with the erasure; must not name the person)",
        ),
    ],
) -> ErasurePublic:
    """Erase the client and everything derived from it: its rows (contacts,
    commissions, orders, interactions, events, feedback, complaints, portal tokens),
    its vectors and documents in every index, cached embeddings, its portal list and
    its cases in other clients' explanations. Served at once: every later call about
    it answers 404. The erasure is recorded (see ``GET /api/v1/erasures``)."""
    done = erasure.erase_client(
        rt,
        external_id=external_id,
        reason=reason,
        principal=principal,
        surface=AuditSurface.API,
    )
    return ErasurePublic(erasure_id=done.erasure_id, counts=done.counts)


@router.get("/erasures", response_model=ErasuresPublic, summary="Erasure records")
def list_erasures(_: AdminDep, rt: RuntimeDep) -> ErasuresPublic:
    """Every erasure, oldest first."""
    data = [
        ErasureRecordPublic(
            id=r.id,
            erased_at=r.erased_at,
            client_id=r.client_id,
            actor_key_id=r.actor_key_id,
            actor_role=r.actor_role,
            reason=r.reason,
            counts=r.counts,
        )
        for r in erasure.erasures(rt)
    ]
    return ErasuresPublic(data=data, count=len(data))
