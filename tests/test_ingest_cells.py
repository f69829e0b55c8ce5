"""Cell conversion of import files (:mod:`recsvc.ingest.cells`), one column at a time."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from recsvc.ingest.cells import convert_column, parse_date, parse_datetime, show
from recsvc.ingest.schema import SCHEMAS


def test_dates_accept_chinese_and_iso_spellings() -> None:
    assert parse_date("2023年5月6日") == dt.date(2023, 5, 6)
    assert parse_date("2023/05/06") == dt.date(2023, 5, 6)
    assert parse_date("2023-05-06 00:00:00") == dt.date(2023, 5, 6)
    assert parse_date("2023-05-06 12:30") is None
    assert parse_date("yesterday") is None
    stamp = parse_datetime("2023-05-06 08:00")
    assert stamp is not None and stamp.tzinfo is dt.UTC and stamp.hour == 8


def test_enum_column_takes_codes_and_labels_and_reports_the_rest() -> None:
    spec = SCHEMAS["clients"].column("kind")
    raw = pd.Series(["企业", "university", "高等院校", "spaceship", ""], index=range(2, 7))
    values, problems = convert_column(spec, raw, True, "clients.csv")
    assert list(values[:3]) == ["enterprise", "university", "university"]
    bad = [(p.row, p.field) for p in problems]
    assert (5, "kind") in bad
    assert all(p.file == "clients.csv" for p in problems)
    assert "'spaceship'" in next(p.reason for p in problems if p.row == 5)


def test_problem_quotes_are_cut() -> None:
    assert show("x" * 50) == repr("x" * 40 + "…")
    assert show(7) == "'7'"
