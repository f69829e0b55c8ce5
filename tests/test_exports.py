"""Worklist exports are safe to open in a spreadsheet: text that would run as a formula
is neutralised (OWASP), and ``.xlsx`` cells are strings or numbers, never formulas.

The API and console tests stand a worklist with hostile client names in for the
ranked one (no model is needed to test the export path)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from recsvc.exports import neutralise, table_bytes
from recsvc.recommend.worklist import WorklistRow
from recsvc.usecases import worklist as uc_worklist
from recsvc.usecases.worklist import Worklist
from tests.fixtures_api import ApiEnv
from tests.fixtures_web import Keys, sign_in

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
]


def _row(rank: int, name: str) -> WorklistRow:
    return WorklistRow(
        rank=rank,
        client_id=rank,
        external_id=f"C{rank:03d}",
        name_zh=name,
        name_en="",
        segment="key",
        industry_field="=1+2",
        account_manager="王老师",
        product_code="P1",
        product_zh="查新",
        product_en="Novelty search",
        score=0.75,
        expected_value=-12.5,
        reason_zh="@reason",
        reason_en="reason",
        action_zh="",
        action_en="",
    )


def _rows() -> list[WorklistRow]:
    return [_row(i + 1, name) for i, name in enumerate([*HOSTILE, "华东生物"])]


@pytest.fixture
def hostile_worklist(monkeypatch: pytest.MonkeyPatch) -> None:
    """``worklist.worklist`` answers with the hostile rows (API and console call it)."""
    monkeypatch.setattr(
        uc_worklist,
        "worklist",
        lambda rt, *, filters, offset=0, contacts=False: Worklist("v-test", _rows()),
    )


def _col(headings: list[object], name: str) -> int:
    """Position of export column ``name`` (its Chinese heading) in ``headings``."""
    return headings.index(uc_worklist.COLUMNS[name].zh.format(months=12))


def _assert_safe_csv(payload: bytes) -> None:
    table = list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))
    p, ev, why = (_col(list(table[0]), n) for n in ("probability", "expected_value", "reason"))
    names = [r[2] for r in table[1:]]
    assert names == [*("'" + n for n in HOSTILE), "华东生物"]
    for row in table[1:]:
        assert row[4] == "'=1+2"  # industry field
        assert row[p] == "0.75" and row[ev] == "-12"  # numbers stay numbers (rounded)
        assert row[why] == "'@reason"
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell == "-12"


def _assert_safe_xlsx(payload: bytes) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type != "f" for c in cells)
    # Excel's escape for a CR inside a cell, which openpyxl leaves as it is
    names = [
        str(sheet.cell(row=r, column=3).value).replace("_x000D_", "\r")
        for r in range(2, sheet.max_row + 1)
    ]
    assert names == [*("'" + n for n in HOSTILE), "华东生物"]
    head = [c.value for c in sheet[1]]
    p, ev = (_col(head, n) + 1 for n in ("probability", "expected_value"))
    assert sheet.cell(row=2, column=p).value == 0.75  # a number, not text
    assert sheet.cell(row=2, column=ev).value == -12


def test_neutralise_only_formula_leading_text() -> None:
    for text in HOSTILE:
        assert neutralise(text) == "'" + text
    assert neutralise("华东生物 = 1") == "华东生物 = 1"
    assert neutralise(-1.5) == -1.5 and neutralise(3) == 3 and neutralise(None) is None


def test_use_case_export_csv_and_xlsx_are_neutralised() -> None:
    _assert_safe_csv(uc_worklist.export(_rows(), fmt="csv"))
    _assert_safe_xlsx(uc_worklist.export(_rows(), fmt="xlsx"))


def test_xlsx_never_writes_formulas_or_links_even_unneutralised() -> None:
    """The writer itself makes no formula cell, whatever the text (defence in depth)."""
    payload = table_bytes(
        [{"a": "=1+1"}, {"a": "http://example.com"}, {"a": "123"}], {"a": "A"}, fmt="xlsx"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    values = [(c.value, c.data_type) for c in sheet["A"]]
    assert values == [("A", "s"), ("'=1+1", "s"), ("http://example.com", "s"), ("123", "s")]


@pytest.mark.usefixtures("hostile_worklist")
def test_api_exports_are_neutralised(api_env: ApiEnv) -> None:
    resp = api_env.get("/api/v1/worklist?format=csv", "librarian")
    assert resp.status_code == 200, resp.text
    _assert_safe_csv(resp.content)
    resp = api_env.get("/api/v1/worklist?format=xlsx", "librarian")
    assert resp.status_code == 200, resp.text
    _assert_safe_xlsx(resp.content)


@pytest.mark.usefixtures("hostile_worklist")
def test_console_exports_are_neutralised(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.librarian)
    resp = web_app.get("/console/worklist.csv")
    assert resp.status_code == 200, resp.text
    _assert_safe_csv(resp.content)
    resp = web_app.get("/console/worklist.xlsx")
    assert resp.status_code == 200, resp.text
    _assert_safe_xlsx(resp.content)
