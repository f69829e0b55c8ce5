"""The CLI starts fast and speaks plainly: commands that do not rank load no model and
import no FAISS, LightGBM, scikit-learn or torch; INFO lines only with ``--verbose``;
an empty store, an unknown segment and a missing folder end with one error line and
exit code 2; tables fold Chinese text instead of cutting it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from recsvc.cli import _common, main

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("lightgbm", "torch", "faiss", "sklearn", "sentence_transformers", "recsvc.serving")


def _env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RECSVC_ENVIRONMENT": "test",
        "RECSVC_DATA_DIR": str(tmp / "data"),
        "RECSVC_MODELS_DIR": str(tmp / "models"),
        "RECSVC_DATABASE_URL": f"sqlite:///{tmp / 'data' / 'recsvc.db'}",
    }


def _recsvc(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from recsvc.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=_env(tmp),
        timeout=300,
        check=False,
    )


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI of this process pointed at an empty store under ``tmp_path``."""
    (tmp_path / "data").mkdir()
    _common.settings.cache_clear()
    for key, value in _env(tmp_path).items():
        if key.startswith("RECSVC_"):
            monkeypatch.setenv(key, value)
    yield tmp_path
    _common.settings.cache_clear()
    _common.set_verbose(False)
    _common.set_brief(False)


def _run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["recsvc", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    code = ended.value.code
    return code if isinstance(code, int) else (0 if code is None else 1)


def test_store_commands_import_no_model_libraries(tmp_path: Path) -> None:
    """stats, keys list, models list, audit list, version and --help in ONE interpreter:
    none of them pulls in a model library or the serving bundle."""
    (tmp_path / "data").mkdir()
    commands = [
        ["stats"],
        ["keys", "list"],
        ["models", "list"],
        ["audit", "list"],
        ["version"],
        ["--help"],
    ]
    code = (
        "import sys\n"
        "from recsvc.cli import main\n"
        f"for argv in {commands!r}:\n"
        "    sys.argv = ['recsvc', *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (argv, exc.code)\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "LOADED []" in run.stdout, run.stdout[-2000:]
    assert "products" in run.stdout  # stats answered
    assert "INFO" not in run.stderr, run.stderr


def test_info_lines_only_with_verbose(tmp_path: Path) -> None:
    args = ("demo-data", "--clients", "30", "--no-import", "--out", str(tmp_path / "demo"))
    quiet = _recsvc(tmp_path, *args)
    assert quiet.returncode == 0, quiet.stderr
    assert "INFO" not in quiet.stderr and "clients drawn" not in quiet.stderr
    loud = _recsvc(tmp_path, "--verbose", *args)
    assert loud.returncode == 0, loud.stderr
    assert "INFO" in loud.stderr and "clients drawn" in loud.stderr


def test_train_on_an_empty_store_says_so_and_exits_2(
    cli_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_main(monkeypatch, "train") == 2
    err = capsys.readouterr().err
    assert "the store has no clients; import data or run recsvc demo-data" in err
    assert "Traceback" not in err
    assert not (cli_store / "models").exists() or not any((cli_store / "models").iterdir())


def _no_model(**_: object) -> object:
    raise AssertionError("a refused command must not open the runtime")


def test_unknown_segment_lists_the_valid_ones_and_exits_2(
    cli_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_common, "runtime", _no_model)
    assert _run_main(monkeypatch, "worklist", "--segment", "vip") == 2
    err = capsys.readouterr().err
    assert "'vip'" in err
    for code in ("key", "potential", "general", "new", "dormant"):
        assert code in err


@pytest.mark.parametrize("name", ["x.xlsx", "x.csv"])
def test_export_to_a_missing_folder_exits_2_and_creates_nothing(
    cli_store: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    monkeypatch.setattr(_common, "runtime", _no_model)
    target = cli_store / "nonexistent" / "dir" / name
    assert _run_main(monkeypatch, "worklist", "--export", str(target)) == 2
    err = capsys.readouterr().err
    assert re.search(r"folder .*nonexistent.dir does not exist", err), err
    assert not (cli_store / "nonexistent").exists()


def test_export_with_an_unknown_format_exits_2(
    cli_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_common, "runtime", _no_model)
    assert _run_main(monkeypatch, "worklist", "--export", str(cli_store / "x.pdf")) == 2
    assert ".csv or .xlsx" in capsys.readouterr().err


def test_a_loaded_model_is_reported_in_one_line(
    cli_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened: list[bool] = []

    def fake_open(settings: object, *, load_model: bool, warm_worklist: bool) -> object:
        opened.append(load_model)
        return SimpleNamespace(bundle=SimpleNamespace(version="v20261206-120000"))

    monkeypatch.setattr("recsvc.usecases.open_runtime", fake_open)
    _common.runtime()
    assert capsys.readouterr().err == ""  # no model, no line
    _common.runtime(load_model=True)
    err = capsys.readouterr().err
    assert re.fullmatch(r"model v20261206-120000 loaded in \d+\.\d s\n", err), err
    assert opened == [False, True]


NAME = "中国科学院深圳先进技术研究院智能仿生研究中心海洋生态环境监测与修复联合实验室"


def test_tables_fold_chinese_text_instead_of_cutting_it() -> None:
    console = Console(record=True, width=60)
    table = _common.table("#", "client", "score", "name", "industry")
    table.add_row("1", "C000123", "0.532", NAME, "海洋科学与技术研究服务业 marine science")
    console.print(table)
    out = console.export_text()
    for ch in NAME:
        assert ch in out, (ch, out)
    assert "…" not in out


def test_every_cli_table_comes_from_the_folding_helper() -> None:
    """A plain ``rich.table.Table(...)`` would cut Chinese cells again."""
    offenders = [
        path.name
        for path in (ROOT / "recsvc" / "cli").glob("*.py")
        if path.name != "_common.py" and re.search(r"(?<![\w.])Table\(", path.read_text())
    ]
    assert offenders == []


def test_brief_stats_is_one_line(
    cli_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_main(monkeypatch, "--brief", "stats") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("store: 0 clients")


def test_the_import_help_names_the_importable_entities() -> None:
    from recsvc.cli.data import ENTITIES
    from recsvc.ingest import ENTITY_ORDER

    assert ENTITIES == ENTITY_ORDER
