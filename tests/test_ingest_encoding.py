"""Text encodings of import files are told, or asked for, never guessed.

A Western Excel CSV (Windows-1252: the ’ of "Women’s" is byte 0x92) used to be read as
GB18030, which decodes almost any bytes, so every accented name became a hanzi
silently. Now a file is read only in the one encoding whose text is plausible; when
more than one fits, the import is refused naming the candidates and ``--encoding``.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from sqlalchemy import select

from recsvc.errors import ImportRejected
from recsvc.ingest import detect_encoding, import_file
from recsvc.store import Database
from recsvc.store.models import Client
from tests.fixtures_api import ApiEnv

WESTERN = ["Women’s College", "Peña", "Núñez y Señora", "Société Générale", "Größe AG"]
#: 你 in GBK is C4 E3, which is also "Äã" in Windows-1252: both read as sensible text.
AMBIGUOUS = "external_id,kind,name_zh\nC1,enterprise,你\n".encode("gbk")


def _clients_csv(names: list[str]) -> str:
    rows = [f"C{i},enterprise,{name}" for i, name in enumerate(names, start=1)]
    return "external_id,kind,name_en\n" + "\n".join(rows) + "\n"


def _names(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(Client.name_en).order_by(Client.id)))


def test_cp1252_csv_as_excel_saves_it_round_trips_exact_names(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(_clients_csv(WESTERN).replace("\n", "\r\n").encode("cp1252"))
    assert b"\x92" in path.read_bytes()
    assert detect_encoding(path) == "cp1252"
    assert import_file(db, path).inserted == len(WESTERN)
    assert _names(db) == WESTERN


def test_one_short_western_name_is_not_read_as_hanzi(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(_clients_csv(["Peña"]).encode("cp1252"))  # 0xF1 0x61 is a GBK hanzi
    import_file(db, path)
    assert _names(db) == ["Peña"]


def test_ambiguous_file_is_refused_naming_candidates_and_the_option(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(AMBIGUOUS)
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    (problem,) = info.value.problems
    assert problem.file == "clients.csv" and problem.field == "encoding"
    assert "gb18030" in problem.reason and "cp1252" in problem.reason
    assert "--encoding" in problem.reason
    assert db.counts()["clients"] == 0


@pytest.mark.parametrize(("encoding", "name"), [("gb18030", "你"), ("cp1252", "Äã")])
def test_explicit_encoding_imports_the_ambiguous_file(
    db: Database, tmp_path: Path, encoding: str, name: str
) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(AMBIGUOUS)
    assert import_file(db, path, encoding=encoding).inserted == 1
    with db.session() as s:
        assert s.scalar(select(Client.name_zh)) == name


def test_unknown_or_wrong_explicit_encoding_is_a_problem(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("external_id,kind,name_zh\nC1,enterprise,某烟草公司\n".encode("gbk"))
    for name in ("klingon", "base64", "rot13", "undefined", "utf\x00"):
        with pytest.raises(ImportRejected) as info:
            import_file(db, path, encoding=name)
        assert info.value.problems[0].field == "encoding"
    with pytest.raises(ImportRejected) as info:
        import_file(db, path, encoding="utf-8")
    assert "--encoding" in info.value.problems[0].reason


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("gbk", b""),
        ("gb18030", b""),
    ],
)
def test_utf8_utf16_and_chinese_files_keep_working(
    db: Database, tmp_path: Path, encoding: str, prefix: bytes
) -> None:
    names = ["某烟草公司", "中国科学院某研究所", "北京𠀾科技" if encoding != "gbk" else "北京科技"]
    text = "external_id,kind,name_zh\n" + "".join(
        f"C{i},企业,{n}\n" for i, n in enumerate(names, start=1)
    )
    path = tmp_path / "clients.csv"
    path.write_bytes(prefix + text.encode(encoding))
    assert import_file(db, path).inserted == 3
    with db.session() as s:
        assert list(s.scalars(select(Client.name_zh).order_by(Client.id))) == names


def test_upload_encoding_field(api_env: ApiEnv) -> None:
    upload = {"file": ("clients.csv", AMBIGUOUS, "text/csv")}
    resp = api_env.post("/api/v1/imports", "analyst", files=upload)
    assert resp.status_code == 422, resp.text
    problem = resp.json()["errors"][0]
    assert problem["field"] == "encoding" and "gb18030" in problem["reason"]
    western = {"file": ("clients.csv", _clients_csv(WESTERN).encode("cp1252"), "text/csv")}
    resp = api_env.post("/api/v1/imports", "analyst", files=western)
    assert resp.status_code == 201, resp.text
    resp = api_env.post("/api/v1/imports", "analyst", files=upload, data={"encoding": "gb18030"})
    assert resp.status_code == 201, resp.text
    with api_env.runtime.db.session() as s:
        assert s.scalar(select(Client.name_zh).where(Client.external_id == "C1")) == "你"
        assert set(WESTERN) <= set(s.scalars(select(Client.name_en)))
