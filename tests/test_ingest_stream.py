"""Imports stream in chunks: duplicates, references and all-or-nothing across chunks,
and memory that follows the chunk, not the files."""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import pytest

from recsvc.demo import generate
from recsvc.errors import ImportRejected
from recsvc.ingest import import_dir, import_file
from recsvc.store import Database


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _clients(n: int, *, kind: str = "企业") -> list[list[str]]:
    return [["external_id", "kind"], *([f"C{i}", kind] for i in range(1, n + 1))]


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("demo"), n_clients=40, seed=3).out_dir


def test_a_duplicate_in_a_later_chunk_names_the_first_row(any_db: Database, tmp_path: Path) -> None:
    rows = [*_clients(6), ["C2", "企业"], ["C7", "企业"], ["C7", "企业"]]
    with pytest.raises(ImportRejected) as info:
        import_file(any_db, _csv(tmp_path / "clients.csv", rows), chunk_rows=2)
    problems = info.value.problems
    assert [(p.row, p.field) for p in problems] == [(8, "external_id"), (10, "external_id")]
    assert "first on row 3" in problems[0].reason  # C2, three chunks earlier
    assert "first on row 9" in problems[1].reason  # C7, same chunk
    assert any_db.counts()["clients"] == 0
    good = import_file(any_db, _csv(tmp_path / "ok" / "clients.csv", _clients(7)), chunk_rows=2)
    assert good.inserted == 7 and any_db.counts()["clients"] == 7


def test_chunked_import_equals_one_chunk(db: Database, demo: Path, tmp_path: Path) -> None:
    """References reach rows written by earlier chunks and files of the same import."""
    whole = Database.from_url(f"sqlite:///{tmp_path / 'whole.db'}")
    whole.upgrade()
    try:
        one = import_dir(whole, demo, chunk_rows=1_000_000)
        many = import_dir(db, demo, chunk_rows=60)
        assert [(r.entity, r.rows, r.inserted) for r in many] == [
            (r.entity, r.rows, r.inserted) for r in one
        ]
        assert db.counts() == whole.counts()
        again = import_dir(db, demo, chunk_rows=45)
        assert all(r.unchanged == r.rows and r.inserted == r.updated == 0 for r in again)
    finally:
        whole.dispose()


def test_dry_run_counts_what_the_import_does_and_writes_nothing(db: Database, demo: Path) -> None:
    dry = import_dir(db, demo, dry_run=True, chunk_rows=50)
    assert db.counts()["clients"] == 0
    real = import_dir(db, demo, chunk_rows=50)
    assert [(r.inserted, r.updated) for r in dry] == [(r.inserted, r.updated) for r in real]
    assert all(r.dry_run for r in dry) and not any(r.dry_run for r in real)


def test_a_bad_last_row_rolls_back_every_chunk_of_every_file(db: Database, demo: Path) -> None:
    path = demo / "complaints.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1].replace("general", "bogus").replace("serious", "bogus")
    lines[-1] = lines[-1].replace("critical", "bogus")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = db.counts()
    with pytest.raises(ImportRejected) as info:
        import_dir(db, demo, chunk_rows=25)
    assert [(p.file, p.row, p.field) for p in info.value.problems] == [
        ("complaints.csv", len(lines), "severity")
    ]
    assert db.counts() == before


def test_rows_that_refer_to_a_rejected_row_are_not_reported_twice(
    any_db: Database, tmp_path: Path
) -> None:
    """A rejected client is never written; a contact of it is still no dangling reference,
    and a contact of a client nobody knows still is."""
    folder = tmp_path / "f"
    _csv(folder / "clients.csv", [*_clients(4), ["C5", "bogus"]])
    contacts = [
        ["external_id", "client_external_id", "name"],
        ["P1", "C5", "甲"],
        ["P2", "C1", "乙"],
        ["P3", "C9", "丙"],
    ]
    _csv(folder / "contacts.csv", contacts)
    commissions = [
        ["external_id", "client_external_id", "contact_external_id", "commissioned_on"],
        ["K1", "C5", "P1", "2024-01-01"],
    ]
    _csv(folder / "commissions.csv", commissions)
    with pytest.raises(ImportRejected) as info:
        import_dir(any_db, folder, chunk_rows=2)
    assert [(p.file, p.row, p.field) for p in info.value.problems] == [
        ("clients.csv", 6, "kind"),
        ("contacts.csv", 4, "client_external_id"),
    ]
    assert any_db.counts()["clients"] == 0


def _peak_bytes(db_path: Path, folder: Path, chunk_rows: int) -> int:
    db = Database.from_url(f"sqlite:///{db_path}")
    db.upgrade()
    tracemalloc.start()
    try:
        import_dir(db, folder, chunk_rows=chunk_rows)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        db.dispose()


def test_peak_memory_follows_the_chunk_not_the_files(tmp_path: Path) -> None:
    """Four times the rows in chunks of 100 peak at about what a quarter do, far
    below reading the large files whole: nothing of a written chunk is kept. (The
    small files fill their chunks too, so the ratio measures file length, not how
    full a chunk is.)"""
    small = generate(tmp_path / "small", n_clients=30, seed=8).out_dir
    large = generate(tmp_path / "large", n_clients=120, seed=8).out_dir
    chunked_small = _peak_bytes(tmp_path / "a.db", small, 100)
    chunked_large = _peak_bytes(tmp_path / "b.db", large, 100)
    whole_large = _peak_bytes(tmp_path / "c.db", large, 1_000_000)
    assert chunked_large < 1.5 * chunked_small, (chunked_large, chunked_small)
    assert chunked_large < 0.6 * whole_large, (chunked_large, whole_large)


def test_no_step_sees_more_than_one_chunk(
    db: Database, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation and writing are handed one chunk at a time, whatever the file size."""
    import recsvc.ingest.importer as importer
    import recsvc.ingest.stream as stream

    sizes: dict[str, list[int]] = {"validate": [], "write": []}
    real_validate, real_write = stream.validate, importer.write

    def spy_validate(schema, table, raw, known, **kw):  # type: ignore[no-untyped-def]
        sizes["validate"].append(len(raw))
        return real_validate(schema, table, raw, known, **kw)

    def spy_write(conn, schema, data, ids):  # type: ignore[no-untyped-def]
        sizes["write"].append(len(data))
        return real_write(conn, schema, data, ids)

    monkeypatch.setattr(stream, "validate", spy_validate)
    monkeypatch.setattr(importer, "write", spy_write)
    reports = import_dir(db, demo, chunk_rows=64)
    assert max(sizes["validate"]) == max(sizes["write"]) == 64
    assert sum(sizes["write"]) == sum(r.rows for r in reports) > 10 * 64
