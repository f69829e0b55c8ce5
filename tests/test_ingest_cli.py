"""The ``recsvc`` command: import, dry run, stats, and exit code 2 on a bad file.

The issue's case runs the real console script in a subprocess; the other cases call
:func:`recsvc.cli.main` in-process (same top-level error handler, no start-up cost).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recsvc.cli import _common, main
from recsvc.ingest import import_file
from recsvc.store import Database
from tests.test_ingest import CLIENTS, COMMISSIONS, write_csv

SCRIPT = Path(sys.executable).parent / "recsvc"
BAD_COMMISSIONS = [
    ["external_id", "client_external_id", "fee", "completed_on"],  # no commissioned_on
    ["K1", "C1", "100", "2021-05-20"],
    ["K2", "C1", "100", "2021-02-30"],
    ["K3", "C2", "-10", ""],
    ["K1", "C3", "5", ""],
]


def _env(tmp: Path) -> dict[str, str]:
    return {
        "RECSVC_DATABASE_URL": f"sqlite:///{tmp / 'cli.db'}",
        "RECSVC_DATA_DIR": str(tmp / "data"),
        "RECSVC_MODELS_DIR": str(tmp / "models"),
        "RECSVC_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }


def test_bad_csv_exits_2_through_the_real_command(tmp_path: Path) -> None:
    db = Database.from_url(_env(tmp_path)["RECSVC_DATABASE_URL"])
    db.upgrade()
    import_file(db, write_csv(tmp_path / "clients.csv", CLIENTS))
    before = db.counts()
    bad = write_csv(tmp_path / "commissions.csv", BAD_COMMISSIONS)
    cmd = (
        [str(SCRIPT)]
        if SCRIPT.exists()
        else [sys.executable, "-c", "from recsvc.cli import main; main()"]
    )
    result = subprocess.run(
        [*cmd, "import", str(bad)],
        env={**os.environ, **_env(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert lines == [
        "commissions.csv, row 1, field 'commissioned_on': required column is missing",
        "commissions.csv, row 3, field 'completed_on': not a valid date (YYYY-MM-DD): '2021-02-30'",
        "commissions.csv, row 4, field 'fee': must not be negative: '-10'",
        "commissions.csv, row 5, field 'external_id': duplicate external_id 'K1' (first on row 2)",
    ]
    assert "nothing was imported" in result.stderr
    assert db.counts() == before


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def recsvc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    """Run ``recsvc ARGS`` in-process; returns (exit code, stdout, stderr)."""
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)

    def run(*args: str) -> tuple[int, str, str]:
        _common.settings.cache_clear()
        monkeypatch.setattr(sys, "argv", ["recsvc", *args])
        with pytest.raises(SystemExit) as info:
            main()
        out = capsys.readouterr()
        code = info.value.code
        return (code if isinstance(code, int) else 1), out.out, out.err

    yield run
    _common.settings.cache_clear()


def test_in_process_bad_file_exits_2(recsvc: Run, tmp_path: Path) -> None:
    code, _, err = recsvc("import", str(write_csv(tmp_path / "commissions.csv", BAD_COMMISSIONS)))
    assert code == 2
    # the four problems of the issue plus four dangling clients (no clients imported here)
    assert len([line for line in err.splitlines() if line.startswith("  commissions.csv")]) == 8
    assert err.count("unknown client") == 4


def test_folder_dry_run_then_import_then_stats(recsvc: Run, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_csv(folder / "clients.csv", CLIENTS)
    write_csv(
        folder / "commissions.csv",
        [COMMISSIONS[0], *([*r[:2], "", *r[3:]] for r in COMMISSIONS[1:])],
    )
    code, out, _ = recsvc("db", "upgrade")
    assert code == 0 and "schema up to date" in out
    code, out, err = recsvc("import", str(folder), "--dry-run")
    assert code == 0, err
    assert "dry run" in out
    _, out, _ = recsvc("stats")
    assert _count(out, "clients") == 0
    code, out, err = recsvc("import", str(folder))
    assert code == 0, err
    assert _count(out, "commissions", column=3) == 3  # inserted
    _, out, _ = recsvc("stats")
    assert (_count(out, "clients"), _count(out, "commissions"), _count(out, "products")) == (
        3,
        3,
        16,
    )


def test_entity_option_and_misuse(recsvc: Run, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", CLIENTS)
    assert recsvc("import", str(path))[0] == 2
    assert recsvc("import", str(path), "--entity", "clients")[0] == 0
    code, _, err = recsvc("import", str(tmp_path), "--entity", "clients")
    assert code == 2 and "single file" in err
    assert recsvc("import", str(tmp_path / "nope.csv"))[0] == 3


def _count(table: str, entity: str, column: int = 1) -> int:
    for line in table.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if cells and cells[0] == entity:
            return int(cells[column].replace(",", ""))
    raise AssertionError(f"{entity} not in:\n{table}")


def test_encoding_option_settles_an_ambiguous_file(recsvc: Run, tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes("external_id,kind,name_zh\nC1,enterprise,你\n".encode("gbk"))
    code, _, err = recsvc("import", str(path))
    assert code == 2 and "ambiguous" in err and "--encoding" in err
    code, out, err = recsvc("import", str(path), "--encoding", "gb18030")
    assert code == 0, err
    assert _count(out, "clients", column=3) == 1  # inserted
