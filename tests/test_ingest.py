"""The validating upsert importer: formats, encodings, problems, upserts, transactions."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from recsvc.errors import ImportRejected, InvalidInput, NotFound, Problem
from recsvc.ingest import import_dir, import_file
from recsvc.store import Database, load_frames
from recsvc.store.models import Client, Commission, Complaint, Contact, ImportRun, Order

CLIENTS = [
    ["external_id", "name_zh", "kind", "industry_field", "registered_on", "talent_count"],
    ["C1", "某烟草公司", "企业", "烟草", "2015-03-01", "12"],
    ["C2", "某农业科技有限公司", "enterprise", "农业", "2016/7/9", ""],
    ["C3", "中国科学院某研究所", "所内研究所", "生物", "", "40"],
]
CONTACTS = [
    ["external_id", "client_external_id", "name", "email", "phone", "active"],
    ["P1", "C1", "李四", "li@example.cn", "13800000000", "是"],
    ["P2", "C2", "王五", "", "", ""],
]
COMMISSIONS = [
    [
        "external_id",
        "client_external_id",
        "contact_external_id",
        "title_zh",
        "search_scope",
        "purpose",
        "fee",
        "commissioned_on",
        "completed_on",
        "recognition_score",
    ],
    ["K1", "C1", "P1", "卷烟滤嘴添加剂", "国内", "立项", "1200", "2021-05-01", "2021-05-20", "4"],
    ["K2", "C2", "P2", "猪瘟疫苗", "国内外", "专利申请", "800.5", "2022-01-01", "", ""],
    ["K3", "C3", "", "", "domestic", "achievement_appraisal", "0", "2022-02-02", "", "5"],
]
ORDERS = [
    [
        "external_id",
        "client_external_id",
        "product_code",
        "commission_external_id",
        "ordered_on",
        "amount",
    ],
    ["O1", "C1", "industry_analysis", "K1", "2021-08-01", "60000"],
    ["O2", "C2", "trend_analysis", "", "2022-06-01", "40000"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def good_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "good"
    write_csv(folder / "clients.csv", CLIENTS)
    write_csv(folder / "contacts.csv", CONTACTS)
    write_csv(folder / "commissions.csv", COMMISSIONS)
    write_csv(folder / "orders.csv", ORDERS)
    (folder / "README.txt").write_text("not an import file")
    (folder / "truth").mkdir()
    return folder


def _where(problems: list[Problem]) -> list[tuple[int | None, str | None]]:
    return [(p.row, p.field) for p in problems]


def test_the_issue_case_one_problem_per_issue_and_nothing_written(
    db: Database, tmp_path: Path
) -> None:
    import_file(db, write_csv(tmp_path / "clients.csv", CLIENTS))
    before = db.counts()
    bad = write_csv(
        tmp_path / "commissions.csv",
        [
            ["external_id", "client_external_id", "fee", "completed_on"],  # no commissioned_on
            ["K1", "C1", "100", "2021-05-20"],
            ["K2", "C1", "100", "2021-02-30"],  # bad date
            ["K3", "C2", "-10", ""],  # negative fee
            ["K1", "C3", "5", ""],  # duplicate id
        ],
    )
    with pytest.raises(ImportRejected) as info:
        import_file(db, bad)
    problems = info.value.problems
    assert _where(problems) == [
        (1, "commissioned_on"),
        (3, "completed_on"),
        (4, "fee"),
        (5, "external_id"),
    ]
    assert all(p.file == "commissions.csv" for p in problems)
    assert "required column is missing" in problems[0].reason
    assert "'2021-02-30'" in problems[1].reason
    assert "negative" in problems[2].reason
    assert "first on row 2" in problems[3].reason
    assert db.counts() == before


def test_folder_import_inserts_in_dependency_order(db: Database, good_dir: Path) -> None:
    reports = import_dir(db, good_dir)
    assert [(r.entity, r.rows, r.inserted, r.updated, r.unchanged) for r in reports] == [
        ("clients", 3, 3, 0, 0),
        ("contacts", 2, 2, 0, 0),
        ("commissions", 3, 3, 0, 0),
        ("orders", 2, 2, 0, 0),
    ]
    frames = load_frames(db)
    clients = frames.clients.set_index("external_id")
    assert clients.loc["C1", "kind"] == "enterprise"
    assert clients.loc["C3", "kind"] == "in_house_institute"
    assert clients.loc["C2", "registered_on"] == dt.datetime(2016, 7, 9)
    commissions = frames.commissions.set_index("external_id")
    assert commissions.loc["K1", "search_scope"] == "domestic"
    assert commissions.loc["K2", "search_scope"] == "domestic_and_foreign"
    assert commissions.loc["K2", "purpose"] == "patent_application"
    assert commissions.loc["K2", "fee"] == 800.5
    assert frames.orders.set_index("external_id").loc["O2", "status"] == "paid"  # default
    with db.session() as s:
        contact = s.scalars(select(Contact).where(Contact.external_id == "P1")).one()
        assert contact.active is True and contact.client.external_id == "C1"
        k1 = s.scalars(select(Commission).where(Commission.external_id == "K1")).one()
        assert k1.contact_id == contact.id
        runs = s.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [(r.entity, r.inserted) for r in runs] == [
        ("clients", 3),
        ("contacts", 2),
        ("commissions", 3),
        ("orders", 2),
    ]


def test_reimport_changes_nothing(db: Database, good_dir: Path) -> None:
    import_dir(db, good_dir)
    with db.session() as s:
        stamps = dict(s.execute(select(Commission.external_id, Commission.updated_at)).all())
    reports = import_dir(db, good_dir)
    assert all(r.inserted == r.updated == 0 and r.unchanged == r.rows for r in reports)
    with db.session() as s:
        assert (
            dict(s.execute(select(Commission.external_id, Commission.updated_at)).all()) == stamps
        )
    assert db.counts()["commissions"] == 3


def test_changed_row_is_updated_and_missing_columns_kept(
    db: Database, good_dir: Path, tmp_path: Path
) -> None:
    import_dir(db, good_dir)
    changed = [row[:] for row in COMMISSIONS]
    changed[2][6] = "999"  # K2 fee
    report = import_file(db, write_csv(tmp_path / "x" / "commissions.csv", changed))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    # a file with fewer columns updates only what it carries
    partial = [["external_id", "client_external_id", "commissioned_on"], ["K1", "C1", "2021-05-02"]]
    report = import_file(db, write_csv(tmp_path / "y" / "commissions.csv", partial))
    assert (report.inserted, report.updated) == (0, 1)
    with db.session() as s:
        rows = {c.external_id: c for c in s.scalars(select(Commission))}
    assert rows["K2"].fee == 999
    assert rows["K1"].commissioned_on == dt.date(2021, 5, 2)
    assert rows["K1"].fee == 1200 and rows["K1"].title_zh == "卷烟滤嘴添加剂"


def test_dry_run_writes_nothing(db: Database, good_dir: Path) -> None:
    reports = import_dir(db, good_dir, dry_run=True)
    assert [r.inserted for r in reports] == [3, 2, 3, 2]
    assert all(r.dry_run for r in reports)
    assert db.counts()["clients"] == 0
    with db.session() as s:
        assert s.scalars(select(ImportRun)).all() == []
    import_dir(db, good_dir)
    changed = [row[:] for row in CLIENTS]
    changed[1][3] = "新材料"
    write_csv(good_dir / "clients.csv", changed)
    reports = import_dir(db, good_dir, dry_run=True)
    assert (reports[0].updated, reports[0].unchanged) == (1, 2)
    with db.session() as s:
        assert s.scalar(select(Client.industry_field).where(Client.external_id == "C1")) == "烟草"


def test_bad_child_file_rolls_back_the_parents(db: Database, good_dir: Path) -> None:
    bad_orders = [row[:] for row in ORDERS]
    bad_orders[2][2] = "no_such_product"
    write_csv(good_dir / "orders.csv", bad_orders)
    with pytest.raises(ImportRejected) as info:
        import_dir(db, good_dir)
    assert _where(info.value.problems) == [(3, "product_code")]
    assert info.value.problems[0].file == "orders.csv"
    counts = db.counts()
    assert counts["clients"] == counts["contacts"] == counts["commissions"] == counts["orders"] == 0


def test_gbk_csv_imports_like_utf8(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "gbk"
    write_csv(folder / "clients.csv", CLIENTS, encoding="gbk")
    write_csv(folder / "commissions.csv", [r[:2] + r[3:] for r in COMMISSIONS], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        (folder / "clients.csv").read_text(encoding="utf-8")
    reports = import_dir(db, folder)
    assert [r.inserted for r in reports] == [3, 3]
    frames = load_frames(db)
    assert set(frames.clients["name_zh"]) == {r[1] for r in CLIENTS[1:]}
    assert list(frames.commissions.sort_values("external_id")["purpose"]) == [
        "project_approval",
        "patent_application",
        "achievement_appraisal",
    ]
    # the same rows in UTF-8 with a BOM are the same rows: nothing changes
    write_csv(folder / "clients.csv", CLIENTS, encoding="utf-8-sig")
    assert import_file(db, folder / "clients.csv").unchanged == 3


def test_xlsx_import(db: Database, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["external_id", "kind", "registered_on", "talent_count", "name_zh"])
    ws.append([1001, "高校", dt.datetime(2020, 1, 2), 3, "某大学"])
    ws.append(["C5", "research_institute", "2021-02-03", None, None])
    ws.append([None, None, None, None, None])  # blank row 4
    ws.append(["C6", "个人", "bad", 1.5, None])  # row 5: two problems
    path = tmp_path / "clients.xlsx"
    wb.save(path)
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    # problems of one row come in the schema's column order
    assert _where(info.value.problems) == [(5, "talent_count"), (5, "registered_on")]
    ws.delete_rows(5)
    wb.save(path)
    report = import_file(db, path)
    assert (report.rows, report.inserted) == (2, 2)
    clients = load_frames(db).clients.set_index("external_id")
    assert clients.loc["1001", "kind"] == "university"
    assert clients.loc["1001", "registered_on"] == dt.datetime(2020, 1, 2)
    assert clients.loc["1001", "talent_count"] == 3
    assert import_file(db, path).unchanged == 2


def test_json_array_and_json_lines(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "json"
    folder.mkdir()
    clients = [
        {"external_id": "J1", "kind": "企业", "extra": {"tags": ["a", "b"]}, "talent_count": 2},
        {"external_id": "J2", "kind": "university", "extra": None},
    ]
    (folder / "clients.json").write_text(json.dumps(clients, ensure_ascii=False), encoding="utf-8")
    lines = [
        {
            "external_id": "X1",
            "client_external_id": "J1",
            "severity": "严重",
            "opened_at": "2024-03-05T09:30:00+08:00",
        },
        {
            "external_id": "X2",
            "client_external_id": "J2",
            "severity": "critical",
            "opened_at": "2024-03-06 10:00",
            "responded_at": "2024-03-06T12:00:00",
        },
    ]
    (folder / "complaints.jsonl").write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8"
    )
    reports = import_dir(db, folder)
    assert [(r.entity, r.inserted) for r in reports] == [("clients", 2), ("complaints", 2)]
    with db.session() as s:
        assert s.scalar(select(Client.extra).where(Client.external_id == "J1")) == {
            "tags": ["a", "b"]
        }
        opened = dict(s.execute(select(Complaint.external_id, Complaint.opened_at)).all())
    assert opened["X1"].replace(tzinfo=None) == dt.datetime(2024, 3, 5, 1, 30)  # +08:00 → UTC
    assert [r.unchanged for r in import_dir(db, folder)] == [2, 2]


def test_json_rows_are_positions(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.json"
    path.write_text(
        json.dumps([{"external_id": "A", "kind": "enterprise"}, {"external_id": "B", "kind": "?"}])
    )
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert _where(info.value.problems) == [(2, "kind")]


def test_references_must_resolve_to_the_same_client(
    db: Database, good_dir: Path, tmp_path: Path
) -> None:
    import_dir(db, good_dir)
    rows = [
        ["external_id", "client_external_id", "contact_external_id", "commissioned_on"],
        ["K9", "C9", "", "2023-01-01"],  # unknown client
        ["K8", "C2", "P1", "2023-01-01"],  # P1 belongs to C1
        ["K7", "C2", "P7", "2023-01-01"],  # unknown contact
    ]
    with pytest.raises(ImportRejected) as info:
        import_file(db, write_csv(tmp_path / "commissions.csv", rows))
    problems = info.value.problems
    assert _where(problems) == [
        (2, "client_external_id"),
        (3, "contact_external_id"),
        (4, "contact_external_id"),
    ]
    assert "belongs to client 'C1'" in problems[1].reason


@pytest.mark.parametrize(
    ("header", "row", "field", "reason"),
    [
        (["kind", "foo"], ["企业", "1"], "foo", "unknown column"),
        (["kind"], ["公司?"], "kind", "not one of"),
        (["kind", "talent_count"], ["企业", "2.5"], "talent_count", "whole number"),
        (["kind", "patents_invention"], ["企业", "-1"], "patents_invention", "negative"),
        (["kind", "extra"], ["企业", "[1, 2]"], "extra", "JSON object"),
        (["kind", "registered_on"], ["企业", "05/03/2024"], "registered_on", "date"),
        (["kind", "enterprise_type"], ["企业", "x" * 65], "enterprise_type", "longer than 64"),
        (["kind"], [""], "kind", "required value is empty"),
    ],
)
def test_cell_problems(
    db: Database, tmp_path: Path, header: list[str], row: list[str], field: str, reason: str
) -> None:
    path = write_csv(tmp_path / "clients.csv", [["external_id", *header], ["C1", *row]])
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    [problem] = info.value.problems
    assert problem.field == field and reason in problem.reason


def test_scores_must_lie_between_1_and_5(db: Database, good_dir: Path, tmp_path: Path) -> None:
    import_dir(db, good_dir)
    rows = [
        ["external_id", "client_external_id", "kind", "received_on", "overall", "quality"],
        ["F1", "C1", "报告反馈", "2022-01-01", "0", "5"],
        ["F2", "C1", "季度调查", "2022-04-01", "5.5", "1"],
    ]
    with pytest.raises(ImportRejected) as info:
        import_file(db, write_csv(tmp_path / "feedback.csv", rows))
    assert _where(info.value.problems) == [(2, "overall"), (3, "overall")]


def test_personal_values_never_appear_in_problems(
    db: Database, good_dir: Path, tmp_path: Path
) -> None:
    import_dir(db, good_dir)
    secret = "赵" * 130
    rows = [["external_id", "client_external_id", "name", "active"], ["P9", "C1", secret, "maybe"]]
    with pytest.raises(ImportRejected) as info:
        import_file(db, write_csv(tmp_path / "contacts.csv", rows))
    assert _where(info.value.problems) == [(2, "name"), (2, "active")]
    assert "赵" not in " ".join(str(p) for p in info.value.problems)


def test_blank_rows_keep_spreadsheet_numbering(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("external_id,kind\nC1,企业\n\n,\nC2,bogus\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert _where(info.value.problems) == [(5, "kind")]


def test_ragged_csv_names_the_line(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_text("external_id,kind\nC1,企业\nC2,企业,extra\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    [problem] = info.value.problems
    assert problem.row == 3 and "unreadable csv" in problem.reason


def test_entity_from_stem_or_argument(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export-2024.csv", CLIENTS)
    with pytest.raises(InvalidInput):
        import_file(db, path)
    assert import_file(db, path, "clients").inserted == 3
    with pytest.raises(NotFound):
        import_file(db, tmp_path / "missing.csv")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput):
        import_dir(db, empty)


def test_two_files_for_one_entity_are_refused(db: Database, good_dir: Path) -> None:
    (good_dir / "clients.json").write_text("[]")
    with pytest.raises(InvalidInput) as info:
        import_dir(db, good_dir)
    assert "clients.csv" in str(info.value.problems[0])


def test_folder_import_on_both_databases(any_db: Database, good_dir: Path) -> None:
    write_csv(
        good_dir / "complaints.csv",
        [
            [
                "external_id",
                "client_external_id",
                "commission_external_id",
                "severity",
                "opened_at",
                "resolved_at",
            ],
            ["X1", "C1", "K1", "严重", "2021-06-01T09:00:00+08:00", "2021-06-02 10:00"],
            ["X2", "C2", "", "general", "2022-03-01 08:00", ""],
        ],
    )
    assert [r.inserted for r in import_dir(any_db, good_dir)] == [3, 2, 3, 2, 2]
    # timestamps come back tz-aware from PostgreSQL and naive from SQLite: still unchanged
    assert [r.unchanged for r in import_dir(any_db, good_dir)] == [3, 2, 3, 2, 2]
    with any_db.session() as s:
        order = s.scalars(select(Order).where(Order.external_id == "O1")).one()
        assert order.amount == 60000 and order.ordered_on == dt.date(2021, 8, 1)
    assert any_db.counts()["orders"] == 2


def test_files_without_data_rows_are_rejected_and_not_recorded(
    db: Database, tmp_path: Path
) -> None:
    header_only = write_csv(tmp_path / "c" / "clients.csv", CLIENTS[:1])
    (tmp_path / "clients.json").write_text("[]")
    blank_rows = write_csv(tmp_path / "b" / "clients.csv", [CLIENTS[0], [""] * 6, [""] * 6])
    for path in (header_only, tmp_path / "clients.json", blank_rows):
        with pytest.raises(ImportRejected) as info:
            import_file(db, path)
        assert [(p.row, p.field) for p in info.value.problems] == [(None, None)]
        assert "no data rows" in info.value.problems[0].reason
    empty = tmp_path / "d" / "clients.csv"
    empty.parent.mkdir()
    empty.write_text("")
    with pytest.raises(ImportRejected) as info:  # no header: the required columns are missing
        import_file(db, empty)
    assert {p.field for p in info.value.problems} == {None, "external_id", "kind"}
    with db.session() as s:
        assert s.scalars(select(ImportRun)).all() == []


def test_problem_list_is_capped(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("recsvc.ingest.stream.MAX_PROBLEMS_PER_FILE", 3)
    rows = [["external_id", "kind"], *([f"C{i}", "bogus"] for i in range(10))]
    with pytest.raises(ImportRejected) as info:
        import_file(db, write_csv(tmp_path / "clients.csv", rows))
    problems = info.value.problems
    assert len(problems) == 4
    assert problems[-1].reason == "… and 7 more problems"


def test_progress_bars_do_not_change_the_result(
    db: Database, good_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = import_dir(db, good_dir, progress=True)
    assert [r.inserted for r in reports] == [3, 2, 3, 2]
    assert "clients.csv" in capsys.readouterr().err  # tqdm writes to stderr


def test_xlsx_reads_the_sheet_named_after_the_entity(db: Database, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["notes"])
    wb.active.append(["this sheet is not data"])
    sheet = wb.create_sheet("Clients")
    sheet.append(["external_id", "kind"])
    sheet.append(["C1", "科研院所"])
    wb.save(tmp_path / "clients.xlsx")
    assert import_file(db, tmp_path / "clients.xlsx").inserted == 1
    assert load_frames(db).clients["kind"].tolist() == ["research_institute"]
