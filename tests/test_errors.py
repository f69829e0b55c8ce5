"""Pins the one error shape the API and the CLI render (RFC 9457 problem details)."""

from __future__ import annotations

import pytest

from recsvc.errors import (
    Conflict,
    Forbidden,
    ImportRejected,
    InvalidInput,
    NotFound,
    NotReady,
    Problem,
    RecsvcError,
    Unauthorized,
)


def test_problem_str_names_file_row_and_field() -> None:
    p = Problem("must not be negative: '-5'", field="fee", row=4, file="commissions.csv")
    assert str(p) == "commissions.csv, row 4, field 'fee': must not be negative: '-5'"


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (Problem("bad"), "bad"),
        (Problem("bad", file="a.csv"), "a.csv: bad"),
        (Problem("bad", row=0), "row 0: bad"),
        (Problem("bad", field="kind", file="a.csv"), "a.csv, field 'kind': bad"),
    ],
)
def test_problem_str_leaves_out_what_is_unknown(problem: Problem, text: str) -> None:
    assert str(problem) == text


def test_problem_as_dict_drops_empty_parts() -> None:
    assert Problem("bad", row=3).as_dict() == {"reason": "bad", "row": 3}


def test_to_problem_shape_with_errors_and_instance() -> None:
    exc = ImportRejected(
        "commissions.csv: 2 problem(s); nothing was imported",
        problems=[
            Problem("required column is missing", field="commissioned_on", row=1, file="c.csv"),
            Problem("not a valid date (YYYY-MM-DD): '2024-13-01'", field="x", row=2),
        ],
    )
    assert exc.to_problem("/imports/7") == {
        "type": "https://recsvc.dev/problems/importrejected",
        "title": "Import rejected",
        "status": 422,
        "detail": "commissions.csv: 2 problem(s); nothing was imported",
        "instance": "/imports/7",
        "errors": [
            {
                "reason": "required column is missing",
                "field": "commissioned_on",
                "row": 1,
                "file": "c.csv",
            },
            {"reason": "not a valid date (YYYY-MM-DD): '2024-13-01'", "field": "x", "row": 2},
        ],
    }


def test_to_problem_without_problems_has_no_errors_key() -> None:
    assert NotFound("no such client: C9").to_problem() == {
        "type": "https://recsvc.dev/problems/notfound",
        "title": "Not found",
        "status": 404,
        "detail": "no such client: C9",
    }


@pytest.mark.parametrize(
    ("cls", "status", "exit_code"),
    [
        (RecsvcError, 500, 1),
        (InvalidInput, 422, 2),
        (ImportRejected, 422, 2),
        (NotFound, 404, 3),
        (Unauthorized, 401, 4),
        (Forbidden, 403, 4),
        (Conflict, 409, 5),
        (NotReady, 503, 6),
    ],
)
def test_status_and_exit_code(cls: type[RecsvcError], status: int, exit_code: int) -> None:
    assert (cls.status, cls.exit_code) == (status, exit_code)
    assert issubclass(cls, RecsvcError)


def test_import_rejected_is_invalid_input() -> None:
    exc = ImportRejected("x")
    assert isinstance(exc, InvalidInput)
    assert exc.problems == []
    assert str(exc) == "x"
