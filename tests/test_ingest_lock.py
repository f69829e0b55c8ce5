"""An import into SQLite does not keep live writes waiting: it validates every file
before it takes the write lock, and holds the lock only for the writes.

The test makes the import pause in the middle of its files (inside the validation of
a later chunk) until another connection has made a small live write, so the order of
events is fixed, not left to timing: the live write must finish while the import is
still running, and quickly. An import that held the lock while validating would keep
that write waiting until it gave up pausing (10 s) and committed.
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from recsvc.auth import create_key
from recsvc.errors import ImportRejected
from recsvc.ingest import import_file, importer, stream
from recsvc.store import Database
from recsvc.store.enums import Role


def _files(folder: Path, n_clients: int, n_commissions: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    clients = folder / "clients.csv"
    with clients.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "kind", "name_zh"])
        w.writerows([f"C{i:05d}", "enterprise", f"客户{i}"] for i in range(n_clients))
    commissions = folder / "commissions.csv"
    with commissions.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "client_external_id", "title_zh", "commissioned_on"])
        w.writerows(
            [f"K{i:06d}", f"C{i % n_clients:05d}", f"课题{i}", "2024-01-01"]
            for i in range(n_commissions)
        )
    return clients, commissions


def test_a_live_write_during_an_import_waits_well_under_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db = Database.from_url(url)
    db.upgrade()
    clients, commissions = _files(tmp_path / "in", 50, 3000)
    import_file(db, clients)
    live = Database.from_url(url)  # another connection, as a server's would be

    validated = 0
    pause = threading.Event()
    written = threading.Event()
    real_validate = stream.validate

    def validate(*args: Any, **kwargs: Any) -> Any:
        nonlocal validated
        validated += 1
        if validated == 3:  # mid-file: earlier chunks of it are through already
            pause.set()
            written.wait(10)
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(stream, "validate", validate)
    outcome: dict[str, Any] = {}

    def run_import() -> None:
        outcome["report"] = import_file(db, commissions, chunk_rows=500)

    worker = threading.Thread(target=run_import)
    worker.start()
    assert pause.wait(60), "the import never reached its third chunk"
    t0 = time.monotonic()
    create_key(live, "live-write", Role.LIBRARIAN)
    waited = time.monotonic() - t0
    importing = worker.is_alive()
    written.set()
    worker.join(120)
    assert outcome["report"].inserted == 3000
    assert importing, "the live write had to wait for the import to finish"
    assert waited < 1.0, waited
    assert db.counts()["commissions"] == 3000
    live.dispose()
    db.dispose()


def test_a_rejected_import_never_takes_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Problems are found before writing: the write phase never starts, nothing is
    written, and every problem is still reported."""
    db = Database.from_url(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade()
    _clients, commissions = _files(tmp_path / "in", 5, 20)
    text = commissions.read_text(encoding="utf-8").replace("C00003", "NOPE", 1)
    commissions.write_text(text, encoding="utf-8")
    locked: list[str] = []
    monkeypatch.setattr(db, "serialise", lambda conn, name: locked.append(name))
    with pytest.raises(ImportRejected) as info:
        importer.import_dir(db, tmp_path / "in")
    assert [(p.file, p.field) for p in info.value.problems] == [
        ("commissions.csv", "client_external_id")
    ]
    assert locked == [] and db.counts()["clients"] == 0
    db.dispose()
