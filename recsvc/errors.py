"""Every error recsvc raises on purpose, each carrying its HTTP status.

The API renders any :class:`RecsvcError` as one RFC 9457 problem-details document
(``type``, ``title``, ``status``, ``detail`` plus ``errors`` for field problems); the
CLI prints the same detail and exits with :attr:`RecsvcError.exit_code`.

Hierarchy::

    RecsvcError                      500  (never raised bare)
    ├── InvalidInput                 422  a request or argument is wrong
    │   └── ImportRejected           422  an import file failed validation (exit code 2)
    ├── NotFound                     404  no such client / product / model version
    ├── Unauthorized                 401  no or unknown API key / portal token
    ├── Forbidden                    403  the key's role may not do this
    ├── TooManyRequests              429  too many failed sign-ins: locked out for a while
    ├── Conflict                     409  state forbids it (e.g. challenger did not beat champion)
    │   └── JobRunning               409  a training job is already running (``job_id``)
    └── NotReady                     503  a model or index has not been built yet
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Problem:
    """One located problem: which file, row, field, and why."""

    reason: str
    field: str | None = None
    row: int | None = None
    file: str | None = None

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"field '{self.field}'" if self.field else None,
            )
            if part
        )
        return f"{where}: {self.reason}" if where else self.reason

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class RecsvcError(Exception):
    """Base class. ``status`` is the HTTP status, ``exit_code`` the CLI exit code."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    exit_code: ClassVar[int] = 1

    def __init__(self, detail: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []

    @property
    def type_slug(self) -> str:
        return type(self).__name__.lower()

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 body; pinned by ``tests/test_errors.py``."""
        body: dict[str, Any] = {
            "type": f"https://recsvc.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.problems:
            body["errors"] = [p.as_dict() for p in self.problems]
        return body


class InvalidInput(RecsvcError):
    status = 422
    title = "Invalid input"
    exit_code = 2


class ImportRejected(InvalidInput):
    title = "Import rejected"


class NotFound(RecsvcError):
    status = 404
    title = "Not found"
    exit_code = 3


class Unauthorized(RecsvcError):
    status = 401
    title = "Unauthorized"
    exit_code = 4


class Forbidden(RecsvcError):
    status = 403
    title = "Forbidden"
    exit_code = 4


class TooManyRequests(RecsvcError):
    """Refused for a while (``retry_after`` seconds; the API sends ``Retry-After``)."""

    status = 429
    title = "Too many requests"
    exit_code = 4

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Conflict(RecsvcError):
    status = 409
    title = "Conflict"
    exit_code = 5


class NotReady(RecsvcError):
    status = 503
    title = "Not ready"
    exit_code = 6


class JobRunning(Conflict):
    """A training job is already queued or running; its id is in the problem's
    ``job_id``."""

    title = "Training job already running"

    def __init__(self, detail: str, *, job_id: str) -> None:
        super().__init__(detail)
        self.job_id = job_id

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().to_problem(instance), "job_id": self.job_id}
