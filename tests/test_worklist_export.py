"""The one worklist export (CLI, API, console): headings and texts in the chosen
language, segment labels, rounded numbers in CSV, number formats, widths, a frozen and
filterable header in ``.xlsx``, and contact columns only for roles that may see them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from recsvc.errors import InvalidInput
from recsvc.recommend.worklist import WorklistRow, export_worklist
from recsvc.usecases import worklist as uc_worklist
from recsvc.usecases.worklist import Worklist
from tests.fixtures_api import ApiEnv
from tests.fixtures_web import Keys, csrf_of, sign_in


def _row(rank: int = 1) -> WorklistRow:
    return WorklistRow(
        rank=rank,
        client_id=rank,
        external_id=f"C{rank:03d}",
        name_zh="华东生物",
        name_en="East China Bio",
        segment="key",
        industry_field="生物医药",
        account_manager="王老师",
        product_code="P1",
        product_zh="专利导航",
        product_en="Patent navigation",
        score=0.5381359480560218,
        expected_value=21525.43792224087,
        reason_zh="最近委托了查新",
        reason_en="commissioned a novelty search recently",
        action_zh="回访",
        action_en="return visit",
        client_probability=0.8712,
        contact_name="陈静",
        contact_phone="010-1234",
        contact_email="chen@example.cn",
    )


def _csv(payload: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(payload.decode("utf-8-sig"))))


def test_csv_is_localized_with_labels_and_rounded_numbers() -> None:
    [zh] = _csv(uc_worklist.export([_row()], fmt="csv", lang="zh"))
    assert zh["客户分类"] == "重点用户" and zh["推荐服务"] == "专利导航"
    assert zh["购买概率（12 个月内）"] == "0.538" and zh["期望价值（¥）"] == "21525"
    [en] = _csv(uc_worklist.export([_row()], fmt="csv", lang="en", months=6))
    assert en["Segment"] == "Key" and en["Client"] == "East China Bio"
    assert en["Offer"] == "Patent navigation" and en["Reason"].startswith("commissioned")
    assert en["P(buys this offer, 6 months)"] == "0.538" and en["Expected value (¥)"] == "21525"
    assert en["P(buys any service, 6 months)"] == "0.871"
    assert "key" not in en.values()  # no raw segment code


def test_xlsx_keeps_numbers_with_formats_widths_frozen_header_and_filter() -> None:
    payload = uc_worklist.export([_row(1), _row(2)], fmt="xlsx", lang="en")
    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    p = sheet.cell(2, head.index("P(buys this offer, 12 months)") + 1)
    ev = sheet.cell(2, head.index("Expected value (¥)") + 1)
    assert p.value == 0.538 and p.number_format == "0.0%"
    assert ev.value == 21525 and ev.number_format == '"¥"#,##0'
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(head))}3"
    reason = openpyxl.utils.get_column_letter(head.index("Reason") + 1)
    assert sheet.column_dimensions[reason].width > sheet.column_dimensions["A"].width


def test_contact_columns_only_when_asked() -> None:
    with_contacts = _csv(uc_worklist.export([_row()], fmt="csv", lang="en", contacts=True))[0]
    assert with_contacts["Contact"] == "陈静" and with_contacts["Email"] == "chen@example.cn"
    without = _csv(uc_worklist.export([_row()], fmt="csv", lang="en"))[0]
    assert not {"Contact", "Phone", "Email"} & set(without)
    assert "陈静" not in "".join(without.values())


def test_file_export_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        export_worklist([_row()], tmp_path / "nope" / "w.xlsx")
    assert not (tmp_path / "nope").exists()
    assert export_worklist([_row()], tmp_path / "w.csv", lang="en").exists()


@pytest.fixture
def one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        uc_worklist,
        "worklist",
        lambda rt, *, filters, offset=0, contacts=False: Worklist("v-test", [_row()]),
    )


@pytest.mark.usefixtures("one_row")
def test_console_export_follows_session_language_and_role(
    web_app: TestClient, web_keys: Keys
) -> None:
    sign_in(web_app, web_keys.librarian)
    [zh] = _csv(web_app.get("/console/worklist.csv").content)
    assert zh["客户分类"] == "重点用户" and zh["联系人"] == "陈静"
    page = web_app.get("/console/")

    web_app.post("/console/lang", data={"lang": "en", "csrf_token": csrf_of(page.text)})
    [en] = _csv(web_app.get("/console/worklist.csv").content)
    assert en["Segment"] == "Key" and en["Contact"] == "陈静"
    web_app.cookies.clear()
    sign_in(web_app, web_keys.analyst)
    [analyst] = _csv(web_app.get("/console/worklist.csv").content)
    assert "陈静" not in "".join(analyst.values()) and "联系人" not in analyst


@pytest.mark.usefixtures("one_row")
def test_api_export_takes_lang(api_env: ApiEnv) -> None:
    [en] = _csv(api_env.get("/api/v1/worklist?format=csv&lang=en", "librarian").content)
    assert en["Segment"] == "Key" and en["Contact"] == "陈静"
    body = api_env.get("/api/v1/worklist", "librarian").json()["data"][0]
    assert body["probability"] == body["score"] and body["contact_name"] == "陈静"
