"""Hostile import files: every value the database cannot hold is a row-level problem.

A 20-digit integer used to raise OverflowError at insert and a deeply nested JSON file
RecursionError in the reader (both 500s); NUL bytes were stored in ids and names; a
header-only file was recorded as an import. Each case here must answer 422 with a
problem naming the file, row and field, and leave the store exactly as it was.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from recsvc.errors import ImportRejected
from recsvc.ingest import SCHEMAS, import_dir, import_file
from recsvc.ingest.cells import convert_column
from recsvc.store import Database
from recsvc.store.models import Client, ImportRun
from tests.fixtures_api import ApiEnv

DEEP = 100_000
#: A product of the catalogue (orders must name one).
PRODUCT = "industry_analysis"


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


#: name → (file name, content, expected (row, field) of the first problem).
HOSTILE: dict[str, tuple[str, str, tuple[int | None, str | None]]] = {
    "20-digit integer": (
        "clients.csv",
        "external_id,kind,talent_count\nCH-1,enterprise,12345678901234567890\n",
        (2, "talent_count"),
    ),
    "20-digit integer in JSON": (
        "clients.json",
        '[{"external_id": "CH-1", "kind": "enterprise", "patents_invention": '
        "123456789012345678901}]",
        (1, "patents_invention"),
    ),
    "NUL in id": ("clients.csv", "external_id,kind\nCH\x00-1,enterprise\n", (2, "external_id")),
    "NUL in name": (
        "clients.csv",
        "external_id,kind,name_zh\nCH-1,enterprise,甲\x00乙\n",
        (2, "name_zh"),
    ),
    "NUL in a JSON name": (
        "contacts.json",
        json.dumps([{"external_id": "P-9", "client_external_id": "CA-001", "name": "张\u0000三"}]),
        (1, "name"),
    ),
    "header-only CSV": ("clients.csv", "external_id,kind\n", (None, None)),
    "empty JSON list": ("clients.json", "[]", (None, None)),
    "JSON nested 100,000 deep": (
        "clients.json",
        '[{"external_id": "CH-1", "kind": "enterprise", "extra": {"a": ' + _deep(DEEP) + "}}]",
        (1, "extra"),
    ),
    "JSON lines nested 100,000 deep in a name": (
        "clients.jsonl",
        '{"external_id": "CH-1", "kind": "enterprise"}\n'
        '{"external_id": "CH-2", "kind": "enterprise", "name_zh": ' + _deep(DEEP) + "}\n",
        (2, "name_zh"),
    ),
    "object where a value belongs": (
        "clients.json",
        '[{"external_id": {"$gt": ""}, "kind": "enterprise"}]',
        (1, "external_id"),
    ),
    "lone surrogate in a JSON key": (
        "clients.json",
        '[{"external_id\\ud800": "CH-1", "external_id": "CH-1", "kind": "enterprise"}]',
        (None, "external_id\\ud800"),
    ),
    "timestamp before the first UTC instant": (
        "complaints.csv",
        "external_id,client_external_id,severity,opened_at\n"
        "XH-1,CA-001,general,0001-01-01T00:00:00+08:00\n",
        (2, "opened_at"),
    ),
    "300-char external id": (
        "clients.csv",
        "external_id,kind\n" + "C" * 300 + ",enterprise\n",
        (2, "external_id"),
    ),
    "nan fee": (
        "commissions.csv",
        "external_id,client_external_id,commissioned_on,fee\nKH-1,CA-001,2024-01-02,nan\n",
        (2, "fee"),
    ),
    "inf amount": (
        "orders.csv",
        f"external_id,client_external_id,product_code,ordered_on,amount\n"
        f"OH-1,CA-001,{PRODUCT},2024-01-02,inf\n",
        (2, "amount"),
    ),
    "NaN literal in JSON": (
        "orders.json",
        '[{"external_id": "OH-1", "client_external_id": "CA-001", "product_code": "'
        + PRODUCT
        + '", "ordered_on": "2024-01-02", "amount": NaN}]',
        (1, "amount"),
    ),
    "negative amount": (
        "orders.csv",
        f"external_id,client_external_id,product_code,ordered_on,amount\n"
        f"OH-1,CA-001,{PRODUCT},2024-01-02,-5\n",
        (2, "amount"),
    ),
    "date 0000-00-00": (
        "orders.csv",
        f"external_id,client_external_id,product_code,ordered_on,amount\n"
        f"OH-1,CA-001,{PRODUCT},0000-00-00,5\n",
        (2, "ordered_on"),
    ),
}


def _store(env: ApiEnv) -> dict[str, int]:
    counts = env.runtime.db.counts()
    with env.runtime.db.session() as s:
        counts["import_runs"] = s.scalar(select(func.count()).select_from(ImportRun)) or 0
    return counts


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_upload_is_a_422_naming_row_and_field(api_env: ApiEnv, case: str) -> None:
    name, content, (row, field) = HOSTILE[case]
    before = _store(api_env)
    resp = api_env.post(
        "/api/v1/imports", "analyst", files={"file": (name, content.encode(), "text/plain")}
    )
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["type"].endswith("/importrejected")
    first = body["errors"][0]
    assert first["file"] == name and first["reason"]
    assert (first.get("row"), first.get("field")) == (row, field), first
    assert _store(api_env) == before
    assert api_env.get("/healthz").status_code == 200


def test_header_only_workbook_is_refused(api_env: ApiEnv) -> None:
    workbook = Workbook()
    workbook.active.append(["external_id", "kind"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    resp = api_env.post(
        "/api/v1/imports", "analyst", files={"file": ("clients.xlsx", buffer.getvalue(), "x")}
    )
    assert resp.status_code == 422, resp.text
    assert [(e["file"], e.get("field")) for e in resp.json()["errors"]] == [("clients.xlsx", None)]


def test_a_codec_that_is_no_text_encoding_is_a_422(api_env: ApiEnv) -> None:
    content = b"external_id,kind\nCH-1,enterprise\n"
    for name in ("base64", "zlib", "undefined"):
        resp = api_env.post(
            "/api/v1/imports",
            "analyst",
            files={"file": ("clients.csv", content, "text/csv")},
            data={"encoding": name},
        )
        assert resp.status_code == 422, resp.text
        assert resp.json()["errors"][0]["field"] == "encoding"


def test_personal_values_are_not_quoted_even_when_hostile(api_env: ApiEnv) -> None:
    _, content, _ = HOSTILE["NUL in a JSON name"]
    resp = api_env.post(
        "/api/v1/imports",
        "analyst",
        files={"file": ("contacts.json", content.encode(), "application/json")},
    )
    assert resp.status_code == 422
    assert "张" not in resp.text and "U+0000" in resp.text


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2147483647", True), ("2147483648", False), ("-1", False), ("1e3", True), ("12.5", False)],
)
def test_integer_columns_hold_exactly_their_range(
    any_db: Database, tmp_path: Path, value: str, ok: bool
) -> None:
    path = tmp_path / "clients.csv"
    path.write_text(f"external_id,kind,talent_count\nC1,enterprise,{value}\n", encoding="utf-8")
    if ok:
        assert import_file(any_db, path).inserted == 1
        with any_db.session() as s:
            assert s.scalar(select(Client.talent_count)) == int(float(value))
    else:
        with pytest.raises(ImportRejected) as info:
            import_file(any_db, path)
        assert [(p.row, p.field) for p in info.value.problems] == [(2, "talent_count")]
        assert any_db.counts()["clients"] == 0


def test_integer_range_comes_from_the_model_column() -> None:
    spec = SCHEMAS["clients"].column("talent_count")
    assert spec.int_range == (-(2**31), 2**31 - 1)
    big = convert_column(spec, pd.Series(["9007199254740993"], index=[2]), True, "c.csv")
    assert "out of range" in big[1][0].reason  # not rounded to a float first


def test_control_characters_are_refused_but_free_text_keeps_tabs_and_newlines() -> None:
    title = SCHEMAS["commissions"].column("title_zh")  # Text: free text
    name = SCHEMAS["clients"].column("name_zh")  # String(200): one line
    cells = pd.Series(["行一\n行二\t尾", "响铃\x07", "代理\ud800"], index=[2, 3, 4], dtype=object)
    values, problems = convert_column(title, cells, True, "commissions.csv")
    assert values[2] == "行一\n行二\t尾"
    assert [(p.row, p.reason) for p in problems] == [
        (3, "contains the control character U+0007"),
        (4, "contains the control character U+D800"),
    ]
    _, problems = convert_column(name, cells, True, "clients.csv")
    assert [p.row for p in problems] == [2, 3, 4]


def test_nul_bytes_never_reach_either_database(any_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("external_id,kind,honours\nC1,enterprise,a\x00b\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_file(any_db, path)
    assert [(p.row, p.field) for p in info.value.problems] == [(2, "honours")]
    assert any_db.counts()["clients"] == 0


def test_json_column_nesting_is_limited_without_recursion(db: Database, tmp_path: Path) -> None:
    ok = {"a": {"b": {"c": [1, 2, {"d": "e"}]}}}
    too_deep: object = "leaf"
    for _ in range(11):
        too_deep = {"k": too_deep}
    rows = [
        {"external_id": "C1", "kind": "enterprise", "extra": ok},
        {"external_id": "C2", "kind": "enterprise", "extra": too_deep},
        {"external_id": "C3", "kind": "enterprise", "extra": {"x": float("inf")}},
        {"external_id": "C4", "kind": "enterprise", "extra": {"x\u0000": 1}},
    ]
    path = tmp_path / "clients.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert [(p.row, p.field) for p in info.value.problems] == [
        (2, "extra"),
        (3, "extra"),
        (4, "extra"),
    ]
    assert "deeper than 10 levels" in info.value.problems[0].reason
    rows = rows[:1]
    path.write_text(json.dumps(rows), encoding="utf-8")
    assert import_file(db, path).inserted == 1


def test_a_csv_cell_of_deep_json_is_a_problem(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    cell = '"{""a"": ' + _deep(DEEP).replace('"', '""') + '}"'
    path.write_text(f"external_id,kind,extra\nC1,enterprise,{cell}\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert [(p.row, p.field) for p in info.value.problems] == [(2, "extra")]


def test_a_folder_skips_an_empty_file_but_not_an_empty_import(db: Database, tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text("external_id,kind\nC1,enterprise\n", encoding="utf-8")
    (tmp_path / "complaints.csv").write_text("external_id,client_external_id,severity,opened_at\n")
    reports = import_dir(db, tmp_path)
    assert [(r.entity, r.rows) for r in reports] == [("clients", 1), ("complaints", 0)]
    with db.session() as s:
        assert list(s.scalars(select(ImportRun.entity))) == ["clients"]
    (tmp_path / "clients.csv").write_text("external_id,kind\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_dir(db, tmp_path)
    assert {p.file for p in info.value.problems} == {"clients.csv", "complaints.csv"}
