"""The models page (analysts and admins): versions with their metrics, the active one
marked, promote / roll back, a retraining with live progress, the evaluation plots
served from the version folders, and per version LightGBM vs its logistic baseline vs
RFM with the choice of which value model serves. Same use cases as ``/api/v1/models``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.web import audit
from api.web.audit import ConsoleAudit
from api.web.deps import CsrfDep, RuntimeDep, prefix, render, require
from recsvc.auth import Principal
from recsvc.errors import Conflict, JobRunning, NotFound
from recsvc.runtime import Runtime
from recsvc.store.enums import JobStatus, Role
from recsvc.usecases import jobs, models
from recsvc.usecases.audit import AuditAction

__all__ = ["router"]

router = APIRouter()

Analyst = Annotated[Principal, require(Role.ANALYST, Role.ADMIN)]
VersionPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
JobQ = Annotated[str, Query(max_length=36, pattern=r"^[A-Za-z0-9-]*$")]

#: Headline metrics shown in the versions table: (label key, candidate paths in
#: metrics.json, first found wins).
HEADLINE: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("models.m.auc", (("value", "auc"),)),
    ("models.m.auc_rfm", (("baselines", "rfm", "auc"),)),
    ("models.m.lift", (("value", "lift@10%"), ("value", "lift@10"))),
    ("models.m.ndcg", models.NDCG5_PATHS),
    ("models.m.ndcg_pop", (("ranker", "eval_popularity_ndcg5"),)),
    ("models.m.recall", (("ranker", "recall@5"), ("ranker", "eval_full_recall5"))),
)
FINISHED = {JobStatus.SUCCEEDED.value, JobStatus.FAILED.value}


def metric(metrics: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> float | None:
    """The first number found in ``metrics`` along one of ``paths`` (None if none is);
    the same reading as ``recsvc models list`` (:func:`recsvc.usecases.models.metric`)."""
    return models.metric(metrics, paths)


def checked_version(version: VersionPath, rt: RuntimeDep) -> str:
    """A version that exists (404 page otherwise)."""
    return models.version(rt, name=version)


VersionDep = Annotated[str, Depends(checked_version)]


def _page(
    request: Request,
    rt: Runtime,
    show: str | None,
    job_id: str,
    message: str | None = None,
    status: int = 200,
) -> Response:
    listing = models.list_versions(rt)
    versions = listing.versions
    names = [v.version for v in versions]
    show = show if show in names else (listing.active or (names[-1] if names else None))
    report = models.evaluation_report(rt, name=show) if show else None
    job = jobs.job(rt, job_id=job_id) if job_id else None
    rows = [
        dict(
            asdict(v),
            headline=[metric(v.metrics or {}, p) for _, p in HEADLINE],
            value_model=rt.registry.value_model(v.version),
        )
        for v in reversed(versions)
    ]
    return render(
        request,
        "models.html",
        {
            "active": "models",
            "versions": rows,
            "headline": [k for k, _ in HEADLINE],
            "active_version": listing.active,
            "serving": listing.serving,
            "show": show,
            "report": report,
            "job": job,
            "finished": FINISHED,
            "message": message,
        },
        status=status,
    )


@router.get("/models", name="models")
def models_page(
    request: Request,
    user: Analyst,
    rt: RuntimeDep,
    version: Annotated[str, Query(max_length=64)] = "",
    job: JobQ = "",
) -> Response:
    """Versions, the active one, plots of the one shown, and a running job if any."""
    return _page(request, rt, version or None, job)


@router.post("/models/{version}/promote", dependencies=[CsrfDep])
def promote(
    request: Request,
    user: Analyst,
    rt: RuntimeDep,
    version: VersionDep,
    force: Annotated[bool, Form()] = False,
) -> Response:
    """Make ``version`` active (hot swap); a challenger that loses shows the reason."""
    try:
        models.promote(rt, name=version, force=force)
    except Conflict as exc:
        return _page(request, rt, version, "", message=exc.detail, status=409)
    audit.record(rt, user, AuditAction.PROMOTE, target=version, detail={"force": force})
    return RedirectResponse(f"{prefix(request)}/models?version={version}", 303)


@router.post("/models/{version}/value-model", dependencies=[CsrfDep])
def choose_value_model(
    request: Request,
    user: Analyst,
    rt: RuntimeDep,
    version: VersionDep,
    model: Annotated[Literal["lightgbm", "logistic"], Form()],
) -> Response:
    """Serve ``version``'s LightGBM model or its logistic baseline."""
    try:
        models.choose_value_model(rt, name=version, model=model, by=user.name)
    except Conflict as exc:
        return _page(request, rt, version, "", message=exc.detail, status=409)
    audit.record(rt, user, AuditAction.VALUE_MODEL, target=version, detail={"model": model})
    return RedirectResponse(f"{prefix(request)}/models?version={version}", 303)


@router.post("/models/rollback", dependencies=[CsrfDep])
def rollback(request: Request, user: Analyst, rt: RuntimeDep) -> Response:
    """Return to the previously active version."""
    try:
        models.rollback(rt)
    except (Conflict, NotFound) as exc:
        return _page(request, rt, None, "", message=exc.detail, status=409)
    audit.record(rt, user, AuditAction.ROLLBACK, target=rt.registry.active())
    return RedirectResponse(f"{prefix(request)}/models", 303)


@router.post("/models/train", dependencies=[CsrfDep, ConsoleAudit.train])
def train(request: Request, user: Analyst, rt: RuntimeDep) -> Response:
    """Start a background training run and show its progress; while one is running
    (one per store), answer 409 with the running one's progress instead."""
    try:
        job = jobs.start_training(rt, requested_by=user.name)
    except JobRunning as exc:
        return _page(request, rt, None, exc.job_id, message=exc.detail, status=409)
    return RedirectResponse(f"{prefix(request)}/models?job={job.id}", 303)


@router.get("/models/jobs/{job_id}", name="job")
def job_fragment(
    request: Request,
    user: Analyst,
    rt: RuntimeDep,
    job_id: Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")],
) -> Response:
    """The progress fragment htmx polls every second until the job finishes."""
    return render(request, "_job.html", {"job": jobs.job(rt, job_id=job_id), "finished": FINISHED})


@router.get("/models/{version}/plots/{name}", name="plot", dependencies=[ConsoleAudit.plot])
def plot(
    user: Analyst,
    rt: RuntimeDep,
    version: VersionDep,
    name: Annotated[str, Path(max_length=120, pattern=r"^[A-Za-z0-9._-]+\.png$")],
) -> Response:
    """One PNG plot from the version folder."""
    return FileResponse(models.plot_path(rt, name=version, plot=name), media_type="image/png")
