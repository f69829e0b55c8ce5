"""Analyst work: import files, train in the background, list, promote and roll back
model versions, choose which value model a version serves, read evaluation reports.
Open to analyst and admin keys."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api.auditing import ApiAudit
from api.deps import API_PREFIX, AnalystDep, RuntimeDep
from api.schemas import (
    EvaluationReportPublic,
    ImportReportPublic,
    ImportReportsPublic,
    JobPublic,
    ModelVersionPublic,
    ModelVersionsPublic,
)
from recsvc.runtime import Runtime
from recsvc.usecases import imports, jobs, models

router = APIRouter(prefix=API_PREFIX, tags=["analyst"])

#: The upload route: its body is limited by ``RECSVC_MAX_UPLOAD_MB`` (streamed, see
#: :mod:`api.body_limit`), not by the JSON routes' limit.
UPLOAD_PATH = f"{API_PREFIX}/imports"


def get_version(
    version: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")],
    rt: RuntimeDep,
) -> str:
    """A model version named in the path, or 404."""
    return models.version(rt, name=version)


VersionDep = Annotated[str, Depends(get_version)]


def _versions(rt: Runtime) -> ModelVersionsPublic:
    listing = models.list_versions(rt)
    registry = rt.registry
    data = [
        ModelVersionPublic(
            version=v.version,
            active=v.active,
            created=v.created,
            metrics=v.metrics,
            value_model=registry.value_model(v.version),
        )
        for v in listing.versions
    ]
    return ModelVersionsPublic(
        active=listing.active, serving=listing.serving, data=data, count=len(data)
    )


@router.post(
    "/imports",
    response_model=ImportReportsPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[ApiAudit.import_],
    summary="Upload an import file",
    responses={413: {"description": "The file is larger than RECSVC_MAX_UPLOAD_MB."}},
)
async def upload_import(
    _: AnalystDep,
    rt: RuntimeDep,
    file: Annotated[
        UploadFile, File(description="clients|contacts|commissions|… .csv/.xlsx/.json")
    ],
    entity: Annotated[str | None, Form(max_length=32)] = None,
    dry_run: Annotated[bool, Form()] = False,
    encoding: Annotated[
        str | None,
        Form(max_length=40, description="Text encoding of a CSV/JSON file; default: detected"),
    ] = None,
) -> ImportReportsPublic:
    """Validated like ``recsvc import``: a rejected file answers 422 with ``errors`` listing
    file, row, field and reason, and nothing is written. A file over
    ``RECSVC_MAX_UPLOAD_MB`` answers 413 while it is still arriving.

    The upload streams to a temporary file as it arrives; validation and the import run
    in a worker thread, so the server keeps answering other calls meanwhile."""
    file.file.seek(0)
    reports = await run_in_threadpool(
        imports.import_upload,
        rt,
        filename=file.filename or "upload",
        payload=file.file,
        entity=entity,
        dry_run=dry_run,
        max_bytes=rt.settings.max_upload_mb * 1024 * 1024,
        encoding=encoding,
    )
    data = [ImportReportPublic.model_validate(asdict(r)) for r in reports]
    return ImportReportsPublic(data=data, count=len(data))


@router.post(
    "/jobs/training",
    response_model=JobPublic,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[ApiAudit.train],
    summary="Start a training job",
    responses={
        409: {
            "description": "A training job is already queued or running in this store; "
            "the problem document's `job_id` names it."
        }
    },
)
def start_training(principal: AnalystDep, rt: RuntimeDep) -> JobPublic:
    """Trains in a background process; poll ``GET /api/v1/jobs/{id}`` for progress.

    One job runs at a time per store: while one is queued or running, this answers 409
    with its id in ``job_id`` (a job whose process died is marked failed first and
    does not count)."""
    return JobPublic.model_validate(jobs.start_training(rt, requested_by=principal.name))


@router.get("/jobs/{job_id}", response_model=JobPublic, summary="A training job")
def get_job(
    _: AnalystDep,
    rt: RuntimeDep,
    job_id: Annotated[str, Path(min_length=1, max_length=36)],
) -> JobPublic:
    """Status, progress (0-1), message and result (the new version) of a job."""
    return JobPublic.model_validate(jobs.job(rt, job_id=job_id))


@router.get("/models", response_model=ModelVersionsPublic, summary="Model versions")
def list_models(_: AnalystDep, rt: RuntimeDep) -> ModelVersionsPublic:
    """Every registered version with its metrics, the active one and the one serving."""
    return _versions(rt)


@router.post(
    "/models/{version}/promote",
    response_model=ModelVersionsPublic,
    dependencies=[ApiAudit.promote],
    summary="Promote a version (hot swap)",
)
def promote(
    _: AnalystDep, version: VersionDep, rt: RuntimeDep, force: bool = False
) -> ModelVersionsPublic:
    """Make ``version`` active and serve it without dropping a request; 409 when it does
    not beat the champion (unless ``force``)."""
    models.promote(rt, name=version, force=force)
    return _versions(rt)


@router.post(
    "/models/rollback",
    response_model=ModelVersionsPublic,
    dependencies=[ApiAudit.rollback],
    summary="Roll back to the previous version (hot swap)",
)
def rollback(_: AnalystDep, rt: RuntimeDep) -> ModelVersionsPublic:
    """Return to the previously active version, swapping it in while requests flow."""
    models.rollback(rt)
    return _versions(rt)


@router.post(
    "/models/{version}/value-model",
    response_model=ModelVersionsPublic,
    dependencies=[ApiAudit.value_model],
    summary="Choose the value model a version serves",
    responses={409: {"description": "The version holds no such value model."}},
)
def choose_value_model(
    principal: AnalystDep,
    version: VersionDep,
    rt: RuntimeDep,
    model: Annotated[Literal["lightgbm", "logistic"], Query(description="The value model")],
) -> ModelVersionsPublic:
    """Serve ``version``'s LightGBM model or its logistic baseline (probabilities and
    reasons); kept in the registry, so it lasts across restarts, and swapped in at once
    when ``version`` is in service."""
    models.choose_value_model(rt, name=version, model=model, by=principal.name)
    return _versions(rt)


@router.get(
    "/models/{version}/report",
    response_model=EvaluationReportPublic,
    dependencies=[ApiAudit.report],
    summary="Evaluation report of a version",
)
def report(
    _: AnalystDep, version: VersionDep, rt: RuntimeDep, request: Request
) -> EvaluationReportPublic:
    """Metrics, training metadata and links to the report's plots."""
    rep = models.evaluation_report(rt, name=version)
    plots = [str(request.url_for("plot", version=version, name=name).path) for name in rep.plots]
    return EvaluationReportPublic(version=version, metrics=rep.metrics, meta=rep.meta, plots=plots)


@router.get(
    "/models/{version}/plots/{name}",
    name="plot",
    dependencies=[ApiAudit.plot],
    summary="A plot of an evaluation report",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def plot(
    _: AnalystDep,
    version: VersionDep,
    rt: RuntimeDep,
    name: Annotated[str, Path(max_length=120, pattern=r"^[A-Za-z0-9._-]+\.png$")],
) -> FileResponse:
    """One PNG plot of the version's evaluation."""
    return FileResponse(models.plot_path(rt, name=version, plot=name), media_type="image/png")
